/**
 * Below this notional (USD) a remainder is acted on with the rest: incremental actions shrink
 * a position geometrically, and slivers would cost a transaction each step for nothing.
 */
export const DUST_NOTIONAL_USD = 10;

/** `fraction`, or 1 when what it leaves of `notional` is dust. */
export function withoutDust(fraction: number, notional: number): number {
  return (1 - fraction) * notional < DUST_NOTIONAL_USD ? 1 : fraction;
}
