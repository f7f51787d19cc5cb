import { RelayerError } from '../errors.js';

/**
 * The fixed-point units of the risk math, the MarginEngine's own:
 * - money (collateral, equity, requirements, required amounts): bigint base units of the USD
 *   stablecoin, 6 decimals;
 * - prices: a Chainlink-style feed answer, bigint with the feed's decimals (8 for USD feeds);
 * - position sizes: signed bigint, 1e18 base units per one unit of the asset (long > 0);
 * - fractions (maintenance, warn, target, m_eff): bigint WAD, 1e18 = 100%.
 * Statistics (variance, sigma, probabilities) are `number`; they enter the money math only
 * through `fractionToWadUp`, rounded up.
 */
export const USD_DECIMALS = 6;
export const SIZE_DECIMALS = 18;
export const SIZE_SCALE = 10n ** 18n;
export const WAD = 10n ** 18n;

/**
 * A requirement rate is the product of two WAD fractions (m_eff * (1 + warn)); at WAD^2 the
 * product is exact, so no rounding enters a decision.
 */
export const RATE_SCALE = WAD * WAD;

/**
 * A requirement rate as a plain fraction, rounded once (its decimal expansion read as a double):
 * `Number(rate) / 1e36` rounds twice and gives 0.09999999999999999 for 0.1. Every adapter that
 * hands the decision core a rate goes through this one conversion, so they agree to the bit.
 */
export function rateFraction(rate: bigint): number {
  if (rate < 0n) throw new RelayerError(`a requirement rate is never negative, got ${rate}`);
  return Number(`${rate / RATE_SCALE}.${(rate % RATE_SCALE).toString().padStart(36, '0')}`);
}

/** a / b rounded toward negative infinity; b > 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a < 0n ? quotient - 1n : quotient;
}

/** a / b rounded toward positive infinity; b > 0. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a > 0n ? quotient + 1n : quotient;
}

export const abs = (value: bigint): bigint => (value < 0n ? -value : value);

/**
 * The boundary where a statistic becomes money math: a non-negative fraction as WAD, rounded
 * up so that a requirement built on it is never smaller than the statistic says.
 */
export function fractionToWadUp(value: number, what: string): bigint {
  if (!Number.isFinite(value) || value < 0) {
    throw new RelayerError(`${what} must be a finite non-negative fraction, got ${value}`);
  }
  return BigInt(Math.ceil(value * 1e18));
}

/** A configured decimal fraction (0.05) as WAD, to the nearest 1e-18. */
export function fractionToWad(value: number, what: string): bigint {
  if (!Number.isFinite(value) || value < 0) {
    throw new RelayerError(`${what} must be a finite non-negative fraction, got ${value}`);
  }
  return BigInt(Math.round(value * 1e18));
}
