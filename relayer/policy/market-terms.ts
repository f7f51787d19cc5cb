/**
 * What acting on part of one position does to the account, in USD of notional x at the oracle
 * (the contracts' rules, DESIGN.md section 4):
 * - a partial liquidation closes x into the pool: the account pays the penalty, the pool fee
 *   and the constant-product slippage (x^2 / (Y + x) selling a long, x^2 / (Y - x) buying back
 *   a short, Y the pool's quote reserve); allowed only below maintenance, up to the close that
 *   restores it (all of the position when none does);
 * - an absorption moves x to the backstop at the oracle minus the penalty: the account pays
 *   the penalty only; allowed only below initial margin, up to the size that restores it.
 * "Relief" is how much of the gap to the target level an action closes: the requirement it
 * frees (x times the target fraction) less what the account pays for it.
 */
import type { PolicyPosition } from './snapshot.js';
import { usdOf } from './usd.js';

const BISECTIONS = 80;

export interface MarketTerms {
  readonly notional: number;
  readonly long: boolean;
  readonly maintenance: number;
  readonly initial: number;
  readonly target: number;
  readonly penalty: number;
  readonly poolUsd: number;
  readonly fee: number;
}

export function marketTerms(position: PolicyPosition): MarketTerms {
  return {
    notional: usdOf(position.notional),
    long: position.long,
    maintenance: position.maintenanceFraction,
    initial: position.initialFraction,
    target: position.targetFraction,
    penalty: position.penalty,
    poolUsd: usdOf(position.pool.quoteReserve),
    fee: position.pool.fee,
  };
}

/** The largest close the pool can fill: all of a long; a short only strictly inside the pool. */
export function closable(terms: MarketTerms): number {
  return terms.long ? terms.notional : Math.min(terms.notional, terms.poolUsd * (1 - 1e-9));
}

/** What closing x costs the account: penalty, fee and slippage. */
export function closeLoss(terms: MarketTerms, x: number): number {
  if (x <= 0) return 0;
  const slippage = terms.long ? (x * x) / (terms.poolUsd + x) : x < terms.poolUsd ? (x * x) / (terms.poolUsd - x) : Number.POSITIVE_INFINITY;
  return (terms.penalty + terms.fee) * x + slippage;
}

export const closeRelief = (terms: MarketTerms, x: number): number => terms.target * x - closeLoss(terms, x);

/** How far closing x brings equity back toward maintenance. */
export const closeMaintenanceGain = (terms: MarketTerms, x: number): number => terms.maintenance * x - closeLoss(terms, x);

/**
 * The engine's cap on a partial liquidation for a maintenance deficit (USD): the smallest close
 * that restores maintenance, or everything it can close when none does. 0 above maintenance.
 */
export function liquidationCap(terms: MarketTerms, deficit: number): number {
  if (deficit <= 0) return 0;
  const whole = closable(terms);
  return smallestReaching((x) => closeMaintenanceGain(terms, x), deficit, whole) ?? whole;
}

/**
 * The close a home action makes for a maintenance deficit: the engine's cap when that restores
 * maintenance; otherwise, for an account with equity left, the close that brings equity closest
 * to it, and none when every close would leave it further below (closing all into a thin pool can
 * cost more than it frees).
 */
export function homeClose(terms: MarketTerms, deficit: number, bankrupt: boolean): number {
  if (deficit <= 0) return 0;
  const whole = closable(terms);
  const gain = (x: number) => closeMaintenanceGain(terms, x);
  const restoring = smallestReaching(gain, deficit, whole);
  if (restoring !== undefined) return restoring;
  // Negative equity is bad debt already: closing everything lets the insurance fund cover it
  // (the engine covers only a flat account), where a partial close would leave it open.
  if (bankrupt) return whole;
  const best = gain(whole) >= gain(peak(gain, whole)) ? whole : peak(gain, whole);
  return gain(best) > 0 ? best : 0;
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
