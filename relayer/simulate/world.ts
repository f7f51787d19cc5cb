/**
 * The market side of a run: the fundamental paths, one pool and one oracle per (chain, market),
 * and the clock. Strategies trade into `pool(...)` during a step; `advance()` moves to the next
 * step: arbitrage decays every pool's deviation, then each oracle reads its pool.
 * Pools and oracles are indexed `chain * marketCount + market` (a "slot").
 */
import { RelayerError } from '../errors.js';
import { Oracle } from './oracle.js';
import { Pool } from './pool.js';
import type { Scenario } from './scenario/schema.js';

export class World {
  readonly marketCount: number;
  readonly chainCount: number;
  readonly stepSeconds: number;
  readonly steps: number;
  readonly pools: readonly Pool[];
  readonly oracles: readonly Oracle[];
  /** Oracle prices by slot: what every valuation reads. */
  readonly oraclePrices: Float64Array;
  /** Slots whose oracle published a round at the current step. */
  readonly rounds: number[] = [];
  step = 0;
  private readonly decayFactor: number;

  constructor(
    scenario: Scenario,
    /** Per market, the fundamental price at each step (price-path.ts). */
    readonly fundamentals: readonly Float64Array[],
  ) {
    this.marketCount = scenario.markets.length;
    this.chainCount = scenario.chains.length;
    this.stepSeconds = scenario.stepSeconds;
    this.steps = stepCount(scenario);
    this.decayFactor = 2 ** (-scenario.stepSeconds / scenario.impact.arbitrageHalfLifeSeconds);
    const pools: Pool[] = [];
    const oracles: Oracle[] = [];
    for (const chain of scenario.chains) {
      for (const market of scenario.markets) {
        const pool = chain.pools[market.id];
        if (pool === undefined) throw new RelayerError(`chain ${chain.key} has no pool for market ${market.id}`);
        pools.push(new Pool({ depthUsd: pool.depthUsd, fee: pool.fee, initialPrice: market.initialPrice }));
        oracles.push(new Oracle({ price: market.initialPrice, deviation: market.oracle.deviation, heartbeatSeconds: market.oracle.heartbeatSeconds }));
      }
    }
    this.pools = pools;
    this.oracles = oracles;
    this.oraclePrices = Float64Array.from(oracles, (oracle) => oracle.price);
  }

  /** Seconds since the start. */
  get time(): number {
    return this.step * this.stepSeconds;
  }

  slot(chain: number, market: number): number {
    return chain * this.marketCount + market;
  }

  marketOf(slot: number): number {
    return slot % this.marketCount;
  }

  fundamental(market: number): number {
    return this.fundamentals[market]?.[this.step] ?? Number.NaN;
  }

  pool(slot: number): Pool {
    const pool = this.pools[slot];
    if (pool === undefined) throw new RelayerError(`no pool at slot ${slot}`);
    return pool;
  }

  /** The pool's price now. */
  poolPrice(slot: number): number {
    return this.pool(slot).price(this.fundamental(this.marketOf(slot)));
  }

  oraclePrice(slot: number): number {
    return this.oraclePrices[slot] ?? Number.NaN;
  }

  /** The next step: arbitrage, then each feed reads its pool. */
  advance(): void {
    this.step += 1;
    this.rounds.length = 0;
    this.pools.forEach((pool, slot) => {
      pool.decay(this.decayFactor);
      const oracle = this.oracles[slot];
      if (oracle?.observe(this.poolPrice(slot), this.time)) {
        this.oraclePrices[slot] = oracle.price;
        this.rounds.push(slot);
      }
    });
  }
}

export function stepCount(scenario: Scenario): number {
  return Math.ceil(scenario.durationSeconds / scenario.stepSeconds - 1e-9);
}
