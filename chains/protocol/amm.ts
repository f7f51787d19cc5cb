import { ceilDiv, floorDiv, VALUE_SCALE, WAD } from './units.js';

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

const BPS = 10_000n;

/** Integer square root, rounded down (as OpenZeppelin's `Math.sqrt`) or up. */
export function sqrt(value: bigint, roundUp = false): bigint {
  if (value < 2n) return value;
  let x = value;
  let y = (x + 1n) / 2n;
  while (y < x) {
    x = y;
    y = (x + value / x) / 2n;
  }
  return roundUp && x * x < value ? x + 1n : x;
}

/**
 * What a block's backstop unwinds may still sell into (`sellLeft`) or buy back from (`buyLeft`)
 * a market's pool of base depth L, after a net `flow` (base sold, negative when bought) this block:
 * the pool price P L^2 / (L + S)^2 must stay within `impactBps` of the oracle, so
 * L (1 / sqrt(1 + b) - 1) <= S <= L (1 / sqrt(1 - b) - 1). Mirrors MarginEngine._unwindLeft.
 */
export function unwindLeft(params: { depth: bigint; impactBps: bigint; flow: bigint }): { sellLeft: bigint; buyLeft: bigint } {
  const { depth, impactBps, flow } = params;
  const maxSold = (depth * sqrt((WAD * WAD * BPS) / (BPS - impactBps))) / WAD - depth;
  const shrink = sqrt(ceilDiv(WAD * WAD * BPS, BPS + impactBps), true);
  const maxBought = depth - ceilDiv(depth * shrink, WAD);
  const sold = maxSold - flow;
  const bought = maxBought + flow;
  return { sellLeft: sold > 0n ? sold : 0n, buyLeft: bought > 0n ? bought : 0n };
}

/**
 * Selling (`size` > 0) or buying back (`size` < 0) base through a pool that this block's unwinds
 * already moved by `flow`: base B = L + flow, k = P L^2; selling s returns k s / (B (B + s)),
 * buying s costs k s / (B (B - s)), both rounded against the seller / buyer; the pool price after
 * is k / (B + size)^2. Mirrors MarginEngine._unwindThroughPool (quote in size x price units).
 */
export function unwindQuote(params: { depth: bigint; flow: bigint; size: bigint; price: bigint }): { quote: bigint; poolPrice: bigint } {
  const { depth, flow, size, price } = params;
  const amount = size < 0n ? -size : size;
  const baseAfter = depth + flow + size;
  const base = baseAfter - size;
  const divide = (numerator: bigint, denominator: bigint) => (size > 0n ? numerator / denominator : ceilDiv(numerator, denominator));
  const quote = divide(divide(amount * price * depth, base) * depth, baseAfter);
  return { quote, poolPrice: (((price * depth) / baseAfter) * depth) / baseAfter };
}
