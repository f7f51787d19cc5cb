import { RelayerError } from '../errors.js';
import type { MarketParams, MarketState, PriceRound } from './types.js';

const SECONDS_PER_YEAR = 365 * 24 * 3600;

/**
 * One EWMA step on a new round: s2 = lambda * s2 + (1 - lambda) * r^2 / dt, with r the log
 * return since the previous round and dt in seconds, so s2 is a per-second variance whatever
 * the spacing of rounds; never below `floor`. Two rounds in the same second count as one second
 * apart: a real move then raises the estimate instead of being dropped.
 */
export function updateVariance(params: {
  variance: number;
  previous: PriceRound;
  next: PriceRound;
  lambda: number;
  floor: number;
}): number {
  const { previous, next } = params;
  if (previous.answer <= 0n || next.answer <= 0n) {
    throw new RelayerError(`a volatility update needs positive prices, got ${previous.answer} -> ${next.answer} in market ${next.market}`);
  }
  const dt = Math.max(1, next.updatedAt - previous.updatedAt);
  const r = Math.log(Number(next.answer) / Number(previous.answer));
  const variance = params.lambda * params.variance + ((1 - params.lambda) * r * r) / dt;
  return Math.max(params.floor, variance);
}

/** A per-second variance from an annualized volatility (0.6 for 60% a year). */
export function varianceFromAnnualVolatility(volatility: number): number {
  return (volatility * volatility) / SECONDS_PER_YEAR;
}

/** A market before its first round: no price, the configured prior variance (at least the floor). */
export function initialMarketState(market: MarketParams): MarketState {
  return { round: undefined, variance: Math.max(market.varianceFloor, market.initialVariance ?? 0) };
}
