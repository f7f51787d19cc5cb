/**
 * The fundamental price of each market at every step: where arbitrage pulls the pools back to.
 * Liquidation flow moves the pools away from it (pool.ts); the path itself is exogenous.
 */
import { RelayerError } from '../errors.js';
import { normal, poisson, streamFor } from './random.js';
import type { MarketSpec, PricePathSpec } from './scenario/schema.js';

const SECONDS_PER_DAY = 86_400;

/** Prices at t = 0, stepSeconds, ..., steps * stepSeconds. */
export function fundamentalPath(params: { market: MarketSpec; path: PricePathSpec; steps: number; stepSeconds: number; seed: number }): Float64Array {
  const { market, path, steps, stepSeconds } = params;
  const random = streamFor(params.seed, `path:${market.id}`);
  const prices = new Float64Array(steps + 1);
  if (path.type === 'points') {
    const noise = path.noise;
    // Ornstein-Uhlenbeck in log price, sampled exactly at the step spacing.
    const decay = noise ? Math.exp(-stepSeconds / noise.meanReversionSeconds) : 0;
    const sigmaPerSecond = noise ? noise.volatilityPerDay / Math.sqrt(SECONDS_PER_DAY) : 0;
    const shock = noise ? sigmaPerSecond * Math.sqrt((noise.meanReversionSeconds / 2) * (1 - decay * decay)) : 0;
    let deviation = 0;
    for (let s = 0; s <= steps; s++) {
      if (s > 0 && noise) deviation = deviation * decay + shock * normal(random);
      prices[s] = market.initialPrice * levelAt(path.points, s * stepSeconds) * Math.exp(deviation);
    }
    return prices;
  }
  const dtDays = stepSeconds / SECONDS_PER_DAY;
  const sigma = path.volatilityPerDay;
  let logPrice = Math.log(market.initialPrice);
  prices[0] = market.initialPrice;
  for (let s = 1; s <= steps; s++) {
    logPrice += (path.driftPerDay - (sigma * sigma) / 2) * dtDays + sigma * Math.sqrt(dtDays) * normal(random);
    const jumps = path.jumps;
    if (jumps && jumps.perDay > 0) {
      const count = poisson(random, jumps.perDay * dtDays);
      for (let j = 0; j < count; j++) logPrice += jumps.mean + jumps.stdev * normal(random);
    }
    prices[s] = Math.exp(logPrice);
  }
  return prices;
}

/** The path's level at t: log-linear between points, flat after the last. */
function levelAt(points: readonly { atSeconds: number; level: number }[], t: number): number {
  let previous = points[0];
  if (previous === undefined) throw new RelayerError('a price path needs at least one point');
  for (const point of points) {
    if (point.atSeconds >= t) {
      if (point.atSeconds === previous.atSeconds) return point.level;
      const w = (t - previous.atSeconds) / (point.atSeconds - previous.atSeconds);
      return Math.exp((1 - w) * Math.log(previous.level) + w * Math.log(point.level));
    }
    previous = point;
  }
  return previous.level;
}
