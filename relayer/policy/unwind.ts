/**
 * How much of the backstop's absorbed inventory to sell (a long) or buy back (a short) now, per
 * market (DESIGN.md section 7b: whether to unwind is the core's decision too). The backstop
 * trades into the market's constant-product pool only while the pool stays within `budget` of
 * the reference price (the oracle on chain, the fundamental in the simulator), so unwinding never
 * becomes the fire sale absorption replaced; the rest waits for arbitrage to bring the pool back.
 * The node asks on a schedule sized to the pool's recovery and sends what it gets within the
 * engine's per-block impact budget; the simulator asks every step. Pure, like `decide`.
 *
 * A pool of USD reserve Q at price r x reference (r = priceRatio) holds B = Q / (r ref) base, and
 * k = B Q. Selling until the price is ref (1 - b) leaves sqrt(k / (ref (1 - b))) base: the sale,
 * at the reference, is Q / sqrt(r (1 - b)) - Q / r, over (1 - fee) as the fee is taken from the
 * input. Buying until ref (1 + b) takes Q / r - Q / sqrt(r (1 + b)).
 */
import { fraction, nonNegativeUnits, positiveNumber } from './validate-snapshot.js';
import { unitsDown, usdOf } from './usd.js';

export interface UnwindPosition {
  readonly marketId: string;
  /** The backstop's position at the reference price, USD base units; long or short. */
  readonly notional: bigint;
  readonly long: boolean;
  /** The market's pool: its USD reserve now, its price over the reference, its fee. */
  readonly pool: { readonly quoteReserve: bigint; readonly priceRatio: number; readonly fee: number };
  /** How far from the reference (a fraction) unwinding may still move the pool now. */
  readonly budget: number;
}

export interface UnwindSnapshot {
  readonly positions: readonly UnwindPosition[];
  /** Below this (base units) a trade is not worth its transaction. */
  readonly minTrade: bigint;
}

export interface UnwindOrder {
  readonly marketId: string;
  /** Sell a long (true) or buy back a short. */
  readonly sell: boolean;
  /** How much, at the reference price, base units. */
  readonly notional: bigint;
  /** The worst average price to accept, over the reference: 1 - budget selling, 1 + budget buying. */
  readonly worstPriceRatio: number;
}

/** The trades to make now: one per market with inventory the pool can take within its budget, in snapshot order. */
export function decideUnwind(snapshot: UnwindSnapshot): UnwindOrder[] {
  validateUnwind(snapshot);
  return snapshot.positions.flatMap((position): UnwindOrder[] => {
    const notional = unitsDown(Math.min(usdOf(position.notional), tradable(position)));
    if (notional <= 0n || notional < snapshot.minTrade) return [];
    return [{ marketId: position.marketId, sell: position.long, notional, worstPriceRatio: position.long ? 1 - position.budget : 1 + position.budget }];
  });
}

/** What the pool takes, at the reference price, before it reaches the budget's edge (USD). */
function tradable(position: UnwindPosition): number {
  const { quoteReserve, priceRatio: r, fee } = position.pool;
  const q = usdOf(quoteReserve);
  const b = position.budget;
  if (position.long) {
    if (r <= 1 - b) return 0;
    return (q / Math.sqrt(r * (1 - b)) - q / r) / (1 - fee);
  }
  if (r >= 1 + b) return 0;
  return q / r - q / Math.sqrt(r * (1 + b));
}

function validateUnwind(snapshot: UnwindSnapshot): void {
  nonNegativeUnits('minTrade', snapshot.minTrade);
  snapshot.positions.forEach((position, i) => {
    const at = `positions[${i}]`;
    nonNegativeUnits(`${at}.notional`, position.notional);
    nonNegativeUnits(`${at}.pool.quoteReserve`, position.pool.quoteReserve);
    positiveNumber(`${at}.pool.priceRatio`, position.pool.priceRatio);
    fraction(`${at}.pool.fee`, position.pool.fee);
    fraction(`${at}.budget`, position.budget);
  });
}
