import { parseUnits } from 'viem';

/**
 * The protocol's fixed-point units, as the contracts define them (MarginEngine constants):
 * collateral in token base units (6 decimals), prices with 8 decimals (Chainlink USD feeds),
 * signed position sizes scaled by 1e18, fractions (margins, penalty, shares) scaled by 1e18.
 */
export const COLLATERAL_DECIMALS = 6;
export const PRICE_DECIMALS = 8;
export const SIZE_DECIMALS = 18;
export const WAD = 10n ** 18n;
/** size * price / VALUE_SCALE = value in collateral units (1e18 * 1e8 / 1e6). */
export const VALUE_SCALE = 10n ** 20n;

/** A decimal string in USD to collateral base units: `usd('12.5')` = 12_500_000n. */
export const usd = (amount: string): bigint => parseUnits(amount, COLLATERAL_DECIMALS);
/** A decimal string price to feed units: `price('3000')` = 300_000_000_000n. */
export const price = (value: string): bigint => parseUnits(value, PRICE_DECIMALS);
/** A signed decimal string of base units to a position size: `size('-1.5')`. */
export const size = (value: string): bigint => parseUnits(value, SIZE_DECIMALS);
/** A decimal fraction to WAD: `fraction('0.05')` = 5e16. */
export const fraction = (value: string): bigint => parseUnits(value, 18);

/** Division rounding toward negative infinity, as the engine's `_floorDiv`. */
export function floorDiv(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  return numerator % denominator !== 0n && numerator < 0n ? quotient - 1n : quotient;
}

/** Division of non-negative values rounding up, as OpenZeppelin's `Math.ceilDiv`. */
export function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  return numerator === 0n ? 0n : (numerator - 1n) / denominator + 1n;
}

export const abs = (value: bigint): bigint => (value < 0n ? -value : value);
