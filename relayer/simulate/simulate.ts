/**
 * `simulate`: a scenario's fundamental paths and population, built once from its seed, then
 * each strategy run on its own copy of both (its own pools, feeds, accounts and vault), so the
 * strategies are compared on exactly the same market and traders.
 */
import { RelayerError } from '../errors.js';
import { notionalOf, type AccountBook } from './book.js';
import { runStrategy, type StrategyRun } from './engine.js';
import { generatePopulation } from './population.js';
import { fundamentalPath } from './price-path.js';
import type { Scenario } from './scenario/schema.js';
import type { DecideFn } from './strategies/relayer/relayer-context.js';
import { STRATEGY_NAMES, type StrategyName } from './strategy.js';
import { stepCount } from './world.js';

export interface SimulationResult {
  readonly scenario: Scenario;
  readonly steps: number;
  readonly population: AccountBook;
  /** Total notional at the start, USD. */
  readonly openInterestUsd: number;
  /** Per market, the fundamental price at each step. */
  readonly fundamentals: readonly Float64Array[];
  readonly runs: readonly StrategyRun[];
}

export function simulate(params: { scenario: Scenario; strategies?: readonly StrategyName[]; record?: boolean; decide?: DecideFn }): SimulationResult {
  const { scenario } = params;
  const steps = stepCount(scenario);
  const fundamentals = scenario.markets.map((market) => {
    const path = scenario.pricePaths[market.id];
    if (path === undefined) throw new RelayerError(`market ${market.id} has no price path`);
    return fundamentalPath({ market, path, steps, stepSeconds: scenario.stepSeconds, seed: scenario.seed });
  });
  const population = generatePopulation(scenario);
  const initialPrices = Float64Array.from(scenario.chains.flatMap(() => scenario.markets.map((market) => market.initialPrice)));
  let openInterestUsd = 0;
  for (let account = 0; account < population.count; account++) {
    openInterestUsd += notionalOf({ book: population, account, prices: initialPrices, marketCount: scenario.markets.length });
  }
  const runs = (params.strategies ?? STRATEGY_NAMES).map((name) =>
    runStrategy({ scenario, population, fundamentals, name, openInterestUsd, record: params.record ?? false, ...(params.decide ? { decide: params.decide } : {}) }),
  );
  return { scenario, steps, population, openInterestUsd, fundamentals, runs };
}
