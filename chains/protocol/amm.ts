import { ceilDiv, floorDiv, VALUE_SCALE } from './units.js';

export interface AmmClose {
  /** What the account receives (long) or pays (short) for the base, in size x price units (1e26). */
  readonly quote: bigint;
  /** Collateral units booked to the account against its entry price. */
  readonly realizedPnl: bigint;
  /** Average execution price (8 decimals, rounded down). */
  readonly executionPrice: bigint;
  /** Cost against the oracle price, in collateral units (rounded up). */
  readonly slippage: bigint;
}

/**
 * Closing `amount` (1e18 scale, positive) of a long or short through the engine's virtual AMM,
 * re-centred on the oracle `price` with base depth L: a long sells for P L s / (L + s), a short
 * buys back for P L s / (L - s). Mirrors MarginEngine._ammClose, roundings included.
 */
export function ammClose(params: { amount: bigint; long: boolean; price: bigint; entryPrice: bigint; depth: bigint }): AmmClose {
  const { amount, long, price, entryPrice, depth } = params;
  const notional = amount * price;
  const cost = amount * entryPrice;
  if (long) {
    const quote = (notional * depth) / (depth + amount);
    return { quote, realizedPnl: floorDiv(quote - cost, VALUE_SCALE), executionPrice: quote / amount, slippage: ceilDiv(notional - quote, VALUE_SCALE) };
  }
  if (amount >= depth) throw new Error(`a short of ${amount} cannot be bought back from an AMM of depth ${depth}`);
  const quote = ceilDiv(notional * depth, depth - amount);
  return { quote, realizedPnl: floorDiv(cost - quote, VALUE_SCALE), executionPrice: quote / amount, slippage: ceilDiv(quote - notional, VALUE_SCALE) };
}
