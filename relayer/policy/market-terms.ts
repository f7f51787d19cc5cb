/**
 * What acting on part of one position does to the account, in USD of notional x at the oracle
 * (the contracts' rules, DESIGN.md section 4):
 * - a partial liquidation closes x into the pool as it is now (quote reserve Y, base reserve
 *   worth Yo at the oracle; they differ when trades left the pool off the oracle): the account
 *   pays the penalty and, against the oracle, the pool's fee and constant-product slippage
 *   (selling a long fetches Y x' / (Yo + x') for x' = x (1 - fee); buying back a short costs
 *   Y x / ((Yo - x) (1 - fee))); allowed only below maintenance, up to the close that restores
 *   the account's close level, maintenance plus the market's liquidation buffer (all of the
 *   position when none does);
 * - an absorption moves x to the backstop at the oracle minus the penalty: the account pays
 *   the penalty only; allowed only below initial margin, up to the size that restores it.
 * "Relief" is how much of the gap to the target level an action closes: the requirement it
 * frees (x times the target fraction) less what the account pays for it.
 * And how the pool paces what goes into it (issue 14): a home close keeps the pool's price within
 * an impact budget of the oracle, the next waiting for arbitrage to restore it; what the backstop
 * absorbs is priced by the risk of holding it while it is unwound through the pool at its budget.
 */
import type { PolicyPosition, PolicyTerms } from './snapshot.js';
import { usdOf } from './usd.js';

const BISECTIONS = 80;
/**
 * A close the budget cuts short waits until arbitrage has given the pool back at least this share
 * of the room a restored pool has: the next chunk is then a real one, not a sliver a block.
 */
const PACE_ROOM_SHARE = 0.5;

export interface MarketTerms {
  readonly notional: number;
  readonly long: boolean;
  readonly maintenance: number;
  readonly initial: number;
  /** What a close or a take may restore, per USD of notional: m + the liquidation buffer. */
  readonly closeLevel: number;
  readonly target: number;
  readonly penalty: number;
  /** The pool's quote reserve, USD. */
  readonly poolUsd: number;
  /** The pool's base reserve valued at the oracle, USD (the quote reserve when the pool sits at the oracle). */
  readonly poolBaseUsd: number;
  readonly fee: number;
  /** EWMA volatility per square root of a second. */
  readonly sigma: number;
  /** The backstop's position in the market, signed USD at the oracle. */
  readonly backstopUsd: number;
}

export function marketTerms(position: PolicyPosition): MarketTerms {
  return {
    notional: usdOf(position.notional),
    long: position.long,
    maintenance: position.maintenanceFraction,
    initial: position.initialFraction,
    closeLevel: position.maintenanceFraction + position.liquidationBufferFraction,
    target: position.targetFraction,
    penalty: position.penalty,
    poolUsd: usdOf(position.pool.quoteReserve),
    poolBaseUsd: position.pool.baseReserve * position.oraclePrice,
    fee: position.pool.fee,
    sigma: position.sigma,
    backstopUsd: usdOf(position.backstopNotional),
  };
}

/** The largest close the pool can fill: all of a long; a short only strictly inside the pool's base reserve. */
export function closable(terms: MarketTerms): number {
  return terms.long ? terms.notional : Math.min(terms.notional, terms.poolBaseUsd * (1 - 1e-9));
}

/** What closing x costs the account against the oracle: penalty, and the pool's fee and slippage at its price now. */
export function closeLoss(terms: MarketTerms, x: number): number {
  if (x <= 0) return 0;
  const { poolUsd: y, poolBaseUsd: yo, fee } = terms;
  if (terms.long) {
    const sold = x * (1 - fee);
    // x - Y x' / (Yo + x'), over one denominator (no cancellation for small x).
    return terms.penalty * x + (x * (yo - y * (1 - fee) + sold)) / (yo + sold);
  }
  if (!(x < yo)) return Number.POSITIVE_INFINITY;
  // Y x / ((Yo - x) (1 - fee)) - x, over one denominator.
  return terms.penalty * x + (x * (y - (yo - x) * (1 - fee))) / ((yo - x) * (1 - fee));
}

/**
 * closeLoss about x = 0 as the planner's quadratic: `linear` x + `quadratic` x^2 (the price gap
 * between pool and oracle and the fee are linear, the slippage quadratic).
 */
export function closeLossCurve(terms: MarketTerms): { readonly linear: number; readonly quadratic: number } {
  const { poolUsd: y, poolBaseUsd: yo, fee } = terms;
  const ratio = y / yo; // pool price over oracle
  return terms.long
    ? { linear: terms.penalty + 1 - ratio * (1 - fee), quadratic: (ratio * (1 - fee) ** 2) / yo }
    : { linear: terms.penalty + ratio / (1 - fee) - 1, quadratic: ratio / ((1 - fee) * yo) };
}

export const closeRelief = (terms: MarketTerms, x: number): number => terms.target * x - closeLoss(terms, x);

/** How far closing x brings equity back toward a level of `level` per USD of notional (default: the close level). */
export const closeLevelGain = (terms: MarketTerms, x: number, level = terms.closeLevel): number => level * x - closeLoss(terms, x);

/**
 * The account's close level (base units): maintenance plus each position's liquidation buffer,
 * what the engine lets a liquidation or a take restore once the account is below maintenance.
 */
export function closeLevelOf(maintenance: bigint, positions: readonly PolicyPosition[]): bigint {
  const buffer = positions.reduce((sum, position) => sum + Number(position.notional) * position.liquidationBufferFraction, 0);
  return maintenance + BigInt(Math.ceil(buffer));
}

/**
 * The engine's cap on a partial liquidation for a close-level deficit (USD): the smallest close
 * that restores the close level, or everything it can close when none does. 0 at it or above.
 */
export function liquidationCap(terms: MarketTerms, deficit: number): number {
  if (deficit <= 0) return 0;
  const whole = closable(terms);
  return smallestReaching((x) => closeLevelGain(terms, x), deficit, whole) ?? whole;
}

/**
 * The close a home action makes for a deficit (USD) to a level of `level` per USD of notional
 * (default: the close level): the smallest close that restores it; otherwise, for an account
 * with equity left, the close that brings equity closest to it, and none when every close would
 * leave it further below (closing all into a thin pool can cost more than it frees).
 */
export function homeClose(terms: MarketTerms, deficit: number, bankrupt: boolean, level = terms.closeLevel): number {
  if (deficit <= 0) return 0;
  const whole = closable(terms);
  const gain = (x: number) => closeLevelGain(terms, x, level);
  const restoring = smallestReaching(gain, deficit, whole);
  if (restoring !== undefined) return restoring;
  // Negative equity is bad debt already: closing everything lets the insurance fund cover it
  // (the engine covers only a flat account), where a partial close would leave it open.
  if (bankrupt) return whole;
  const best = mostGainingClose(terms, level);
  return gain(best) > 0 ? best : 0;
}

/** The close that adds most to equity over a level of `level` per USD of notional (the peak of closeLevelGain). */
export function mostGainingClose(terms: MarketTerms, level: number): number {
  const gain = (x: number) => closeLevelGain(terms, x, level);
  const whole = closable(terms);
  return gain(whole) >= gain(peak(gain, whole)) ? whole : peak(gain, whole);
}

/** The most relief any close of the position gives at the pool as it is (0 when none gives any). */
export function mostCloseRelief(terms: MarketTerms): number {
  const relief = (x: number) => closeRelief(terms, x);
  const whole = closable(terms);
  return Math.max(0, relief(whole), relief(peak(relief, whole)));
}

/** The smallest close whose relief reaches `relief`, within `limit`; undefined if none does. */
export function closeForRelief(terms: MarketTerms, relief: number, limit: number): number | undefined {
  return smallestReaching((x) => closeRelief(terms, x), relief, limit);
}

export const absorbRelief = (terms: MarketTerms, x: number): number => (terms.target - terms.penalty) * x;

/** The engine's cap on an absorption for an initial-margin deficit (USD): 0 at or above initial. */
export function absorbCap(terms: MarketTerms, deficit: number): number {
  if (deficit <= 0) return 0;
  const perUsd = terms.initial - terms.penalty;
  return perUsd <= 0 ? terms.notional : Math.min(terms.notional, deficit / perUsd);
}

/**
 * The largest close that leaves the pool's price within `budget` of the oracle: selling a long
 * moves it to ratio (Yo / (Yo + x'))^2 of where it is, buying back a short to ratio
 * (Yo / (Yo - x))^2. 0 when the pool is already past the budget. `restored`: for the pool once
 * arbitrage has brought it back to the oracle (same k: both reserves worth sqrt(Y Yo)).
 */
export function poolRoom(terms: MarketTerms, budget: number, restored = false): number {
  const depth = restored ? Math.sqrt(terms.poolUsd * terms.poolBaseUsd) : terms.poolBaseUsd;
  const ratio = restored ? 1 : terms.poolUsd / terms.poolBaseUsd;
  if (!(depth > 0)) return 0;
  if (terms.long) return ratio > 1 - budget ? (depth * (Math.sqrt(ratio / (1 - budget)) - 1)) / (1 - terms.fee) : 0;
  return ratio < 1 + budget ? depth * (1 - Math.sqrt(ratio / (1 + budget))) : 0;
}

/**
 * A close of `cap` paced by the pool (Hyperliquid's 20% of a position, then 30 s, as a pool's
 * budget): all of it when the pool has room for it within the budget; otherwise the room there
 * is, once arbitrage has given back at least PACE_ROOM_SHARE of a restored pool's; else nothing yet.
 */
export function pacedClose(terms: MarketTerms, budget: number, cap: number): number {
  const room = poolRoom(terms, budget);
  if (cap <= room) return cap;
  return room >= PACE_ROOM_SHARE * poolRoom(terms, budget, true) ? room : 0;
}

/**
 * USD of notional (at the oracle) the backstop can unwind per second through this pool on the
 * position's side (selling what it took of a long, buying back a short) within `budget` a block:
 * each block arbitrage takes the pool's deviation down to 2^(-blockSeconds / halfLife) of it, and
 * the backstop trades it back to the budget. What a restored pool takes to reach a deviation d is
 * `poolRoom(terms, d, true)`; a block's unwind is the difference between d = budget and the
 * deviation arbitrage left.
 */
export function unwindRate(terms: MarketTerms, pace: Pick<PolicyTerms, 'unwindImpactBudget' | 'blockSeconds' | 'arbitrageHalfLifeSeconds'>): number {
  const left = pace.arbitrageHalfLifeSeconds > 0 ? 2 ** (-pace.blockSeconds / pace.arbitrageHalfLifeSeconds) : 0;
  const perBlock = poolRoom(terms, pace.unwindImpactBudget, true) - poolRoom(terms, pace.unwindImpactBudget * left, true);
  return perBlock > 0 && Number.isFinite(perBlock) ? perBlock / pace.blockSeconds : 0;
}

/**
 * The risk price of the backstop absorbing x of the position: z sigma sqrt(T) times the notional
 * it adds to its book, T the seconds to unwind that book on this side (what it already holds
 * there, queued first, and x) at `rate` USD a second. What nets against the backstop's opposite
 * position adds nothing to unwind. Also its slope in x (for the planner's curve).
 */
export function absorbRisk(terms: MarketTerms, x: number, params: { z: number; rate: number }): { readonly cost: number; readonly slope: number } {
  const sameSide = terms.long ? terms.backstopUsd : -terms.backstopUsd;
  const queued = Math.max(0, sameSide);
  const added = Math.max(0, x + Math.min(0, sameSide));
  if (!(added > 0)) return { cost: 0, slope: 0 };
  if (!(params.rate > 0)) return { cost: Number.POSITIVE_INFINITY, slope: Number.POSITIVE_INFINITY };
  const k = (params.z * terms.sigma) / Math.sqrt(params.rate);
  const book = Math.sqrt(queued + added);
  return { cost: k * book * added, slope: k * (book + added / (2 * book)) };
}

/**
 * Smallest x in (0, limit] with gain(x) >= goal for a gain that rises then may fall (linear
 * relief against convex costs). Undefined when no x reaches it.
 */
function smallestReaching(gain: (x: number) => number, goal: number, limit: number): number | undefined {
  if (goal <= 0) return 0;
  if (limit <= 0) return undefined;
  let high = limit;
  if (!(gain(high) >= goal)) {
    high = peak(gain, limit);
    if (!(gain(high) >= goal)) return undefined;
  }
  let low = 0;
  for (let i = 0; i < BISECTIONS; i++) {
    const mid = (low + high) / 2;
    if (gain(mid) >= goal) high = mid;
    else low = mid;
  }
  return high;
}

/** Golden-section search for the maximum of a concave gain on [0, limit]. */
function peak(f: (x: number) => number, limit: number): number {
  const golden = (Math.sqrt(5) - 1) / 2;
  let a = 0;
  let b = limit;
  for (let i = 0; i < BISECTIONS; i++) {
    const c = b - golden * (b - a);
    const d = a + golden * (b - a);
    // Ties (both -Infinity past what a pool can fill) go left, toward what can be filled.
    if (f(c) >= f(d)) b = d;
    else a = c;
  }
  return (a + b) / 2;
}
