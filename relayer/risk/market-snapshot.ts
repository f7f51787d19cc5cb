import { effectiveMarginFraction } from './effective-margin.js';
import { forecastFractions } from './forecast.js';
import { oracleAge } from './oracle-staleness.js';
import type { RiskConfig } from './risk-config.js';
import type { MarketParams, MarketState } from './types.js';
import { WAD } from './units.js';

export type Freshness = 'fresh' | 'stale' | 'missing';

/**
 * A market as the risk math sees it at `now`: its price, how fresh it is, sigma, m_eff, and
 * the requirement rates (RATE_SCALE = WAD^2) each decision multiplies by |p| P.
 */
export interface MarketSnapshot {
  readonly market: MarketParams;
  readonly state: MarketState;
  /** The latest answer; undefined before the first round. */
  readonly price: bigint | undefined;
  readonly freshness: Freshness;
  readonly ageSeconds: number | undefined;
  readonly sigma: number;
  /** T_act + T_oracle; a missing price counts a full heartbeat. */
  readonly horizonSeconds: number;
  /** m_eff, WAD. */
  readonly effectiveFraction: bigint;
  readonly maintenanceRate: bigint;
  readonly effectiveRate: bigint;
  /** m_eff * (1 + warn): below it the account is reported. */
  readonly warnRate: bigint;
  /** m_eff * (1 + target): what the required amount restores. */
  readonly targetRate: bigint;
  /** The forecast requirement f per side (see forecast.ts); undefined when the mode is off. */
  readonly forecastRates: { readonly long: bigint; readonly short: bigint } | undefined;
}

export function marketSnapshot(params: { market: MarketParams; state: MarketState; config: RiskConfig; now: number }): MarketSnapshot {
  const { market, state, config, now } = params;
  const round = state.round;
  const age = round === undefined ? undefined : oracleAge({ now, updatedAt: round.updatedAt, heartbeatSeconds: market.heartbeatSeconds });
  const freshness: Freshness = age === undefined ? 'missing' : age.stale ? 'stale' : 'fresh';
  const horizonSeconds = config.actionSeconds + (age?.oracleSeconds ?? market.heartbeatSeconds);
  const sigma = Math.sqrt(state.variance);
  const effectiveFraction = effectiveMarginFraction({ maintenanceFraction: market.maintenanceFraction, sigma, horizonSeconds, z: config.z });
  let forecastRates: MarketSnapshot['forecastRates'];
  if (config.forecast !== undefined) {
    const kappa = config.forecast.multiplier * sigma * Math.sqrt(horizonSeconds);
    const fractions = forecastFractions({ maintenanceFraction: market.maintenanceFraction, kappa });
    forecastRates = { long: fractions.long * WAD, short: fractions.short * WAD };
  }
  return {
    market,
    state,
    price: round?.answer,
    freshness,
    ageSeconds: age?.ageSeconds,
    sigma,
    horizonSeconds,
    effectiveFraction,
    maintenanceRate: market.maintenanceFraction * WAD,
    effectiveRate: effectiveFraction * WAD,
    warnRate: effectiveFraction * (WAD + config.warn),
    targetRate: effectiveFraction * (WAD + config.target),
    forecastRates,
  };
}
