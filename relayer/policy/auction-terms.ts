/**
 * What a Dutch auction of part of one position is expected to do, in USD of notional at the
 * oracle (MarginEngine startAuction / take, issue 14 item 3). The price is the formula of
 * chains/protocol/auction.ts `auctionTop` / `auctionPrice` (bigint WAD, the node's) in floats for
 * the planner, solved for the step instead of evaluated at one: top = oracle x buf for a long lot,
 * oracle / buf for a short; f = cut^floor(t / step); a long lot costs top x f, a short top / f; a
 * reset is due once t > tail or f < cusp. Takers are arbitrageurs who
 * fill at the first step whose price beats the pool's by their margin; when no step does before a
 * reset, no fill is expected. At fill price f x oracle the account books (1 - f) of the notional
 * against the oracle (f - 1 for a short) and pays the penalty, with no pool slippage; the engine
 * cuts each take to what restores the close level (maintenance plus the buffer) at that price.
 */
import type { MarketTerms } from './market-terms.js';
import type { PolicyPosition } from './snapshot.js';

export interface AuctionFill {
  /** Steps until the fill (the wait is steps x stepSeconds). */
  readonly steps: number;
  readonly waitSeconds: number;
  /** The fill price over the oracle. */
  readonly priceRatio: number;
  /** What the account pays per USD of notional taken, against the oracle: the discount plus the penalty. */
  readonly lossPerNotional: number;
}

/** The expected fill of a lot, or undefined when no step before a reset beats the pool by the takers' margin. */
export function auctionFill(params: { auction: NonNullable<PolicyPosition['auction']>; terms: MarketTerms; takerMargin: number }): AuctionFill | undefined {
  const { auction, terms, takerMargin } = params;
  if (!(terms.poolUsd > 0) || !(terms.poolBaseUsd > 0)) return undefined;
  const poolRatio = terms.poolUsd / terms.poolBaseUsd;
  // Long lot: buf cut^n <= poolRatio (1 - margin); short lot: 1 / (buf cut^n) >= poolRatio (1 + margin).
  const goal = terms.long ? (poolRatio * (1 - takerMargin)) / auction.buf : 1 / (auction.buf * poolRatio * (1 + takerMargin));
  const steps = goal >= 1 ? 0 : Math.ceil(Math.log(goal) / Math.log(auction.cut) - 1e-12);
  const factor = auction.cut ** steps;
  const waitSeconds = steps * auction.stepSeconds;
  if (!Number.isFinite(steps) || factor < auction.cusp || waitSeconds > auction.tailSeconds) return undefined;
  const priceRatio = terms.long ? auction.buf * factor : 1 / (auction.buf * factor);
  const lossPerNotional = (terms.long ? 1 - priceRatio : priceRatio - 1) + terms.penalty;
  return { steps, waitSeconds, priceRatio, lossPerNotional };
}

/** The notional a take restores the close level with for a deficit to it (USD), as the engine's `_takeCap`; undefined when a take cannot help. */
export function auctionCap(terms: MarketTerms, fill: AuctionFill, deficit: number): number | undefined {
  const gain = terms.closeLevel - fill.lossPerNotional;
  if (!(gain > 0)) return undefined;
  return Math.min(terms.notional, deficit / gain);
}

/** Relief (toward the target) per USD of notional taken. */
export const auctionReliefPerNotional = (terms: MarketTerms, fill: AuctionFill): number => terms.target - fill.lossPerNotional;
