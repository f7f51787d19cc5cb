import { RelayerError } from '../errors.js';
import { forecastMultiplier } from './forecast.js';
import { fractionToWad } from './units.js';

/** The node's risk settings, validated; fractions that enter money math are WAD. */
export interface RiskConfig {
  /** Confidence multiplier of the volatility term in m_eff. */
  readonly z: number;
  /** EWMA decay per observation. */
  readonly lambda: number;
  /** T_act: expected seconds to complete the cheapest action. */
  readonly actionSeconds: number;
  /** Report when E < MM_eff * (1 + warn). */
  readonly warn: bigint;
  /** The required amount restores E >= MM_eff * (1 + target); target > warn. */
  readonly target: bigint;
  /** Proactive mode: report when P(breach within the horizon) > level; absent when off. */
  readonly forecast: ForecastConfig | undefined;
}

export interface ForecastConfig {
  readonly level: number;
  /** k with 2 * (1 - Phi(k)) = level: the probability exceeds the level iff health < k * dispersion. */
  readonly multiplier: number;
}

export interface RiskConfigInput {
  readonly z?: number;
  readonly lambda?: number;
  readonly actionSeconds: number;
  readonly warn: number;
  readonly target: number;
  readonly forecastLevel?: number;
}

export const DEFAULT_Z = 3;
export const DEFAULT_LAMBDA = 0.94;

/** Validates settings and fills defaults (z = 3, lambda = 0.94); a bad value is named. */
export function riskConfig(input: RiskConfigInput): RiskConfig {
  const z = input.z ?? DEFAULT_Z;
  const lambda = input.lambda ?? DEFAULT_LAMBDA;
  if (!(Number.isFinite(z) && z > 0)) throw new RelayerError(`risk.z must be a positive number, got ${z}`);
  if (!(lambda > 0 && lambda < 1)) throw new RelayerError(`risk.lambda must be in (0, 1), got ${lambda}`);
  if (!(Number.isFinite(input.actionSeconds) && input.actionSeconds >= 0)) {
    throw new RelayerError(`risk.actionSeconds must be a non-negative number of seconds, got ${input.actionSeconds}`);
  }
  const warn = fractionToWad(input.warn, 'risk.warn');
  const target = fractionToWad(input.target, 'risk.target');
  if (target <= warn) throw new RelayerError(`risk.target (${input.target}) must be greater than risk.warn (${input.warn})`);
  let forecast: ForecastConfig | undefined;
  if (input.forecastLevel !== undefined) {
    const level = input.forecastLevel;
    if (!(level > 0 && level < 1)) throw new RelayerError(`risk.forecastLevel must be a probability in (0, 1), got ${level}`);
    forecast = { level, multiplier: forecastMultiplier(level) };
  }
  return { z, lambda, actionSeconds: input.actionSeconds, warn, target, forecast };
}
