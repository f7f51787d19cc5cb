/**
 * One strategy over one scenario, step by step, in process. Each step: the world advances
 * (arbitrage decays price impact, feeds read their pools), the strategy takes what is due,
 * the scan finds the accounts it should look at, it acts (its trades move the pools, which
 * the feeds will read next step: the cascade), and the step's market and vault are recorded.
 * Deterministic: no clock, no unseeded randomness, iteration in index order.
 */
import { cloneBook, equityOf, hasPositions, type AccountBook } from './book.js';
import { BlockLimits } from './execution/block-limits.js';
import { exitValue } from './inventory-exit.js';
import { strategyMetrics, type StrategyMetrics } from './metrics.js';
import { scanAccounts } from './scan.js';
import type { Scenario } from './scenario/schema.js';
import { closeFactorStrategy } from './strategies/close-factor.js';
import { fullStrategy } from './strategies/full.js';
import { relayerStrategy } from './strategies/relayer/relayer.js';
import type { DecideFn } from './strategies/relayer/relayer-context.js';
import type { RunState, Strategy, StrategyName } from './strategy.js';
import { Tally } from './tally.js';
import { Vault } from './vault.js';
import { World } from './world.js';

export interface StrategyRun {
  readonly name: StrategyName;
  readonly metrics: StrategyMetrics;
  /** The run's final state, for the accounting identities and the chart. */
  readonly state: RunState;
}

/** What a run may be given besides its scenario: the decision core the `relayer` strategy asks (default: relayer/policy's `decide`). */
export interface RunOptions {
  readonly decide?: DecideFn;
}

const FACTORIES: Record<StrategyName, (state: RunState, options: RunOptions) => Strategy> = {
  full: fullStrategy,
  'close-factor': closeFactorStrategy,
  relayer: (state, options) => relayerStrategy(state, options),
};

export function runStrategy(params: {
  scenario: Scenario;
  population: AccountBook;
  fundamentals: readonly Float64Array[];
  name: StrategyName;
  openInterestUsd: number;
  record: boolean;
  decide?: DecideFn;
}): StrategyRun {
  const { scenario, name } = params;
  const world = new World(scenario, params.fundamentals);
  const state = createRunState({ scenario, world, book: cloneBook(params.population), record: params.record });
  const { tally, vault } = state;
  const strategy = FACTORIES[name](state, params.decide ? { decide: params.decide } : {});
  recordStep(state);
  for (let step = 1; step <= world.steps; step++) {
    world.advance();
    strategy.beginStep(state);
    const scan = scanAccounts(state, strategy.candidateRates());
    tally.exposure({ underwater: scan.underwater, shortfall: scan.shortfall, seconds: world.stepSeconds });
    strategy.act(state, scan.candidates);
    strategy.endStep(state);
    recordStep(state);
  }
  tally.openBadDebt = openNegativeEquity(state);
  const metrics = strategyMetrics({
    tally,
    vault,
    vaultExitValue: exitValue({ world, vault }),
    openInterestUsd: params.openInterestUsd,
    durationSeconds: world.steps * world.stepSeconds,
  });
  return { name, metrics, state };
}

/** A run's state at its start: the book as given, a fresh vault at the scenario's reserves, no limit used. */
export function createRunState(params: { scenario: Scenario; world: World; book: AccountBook; record: boolean }): RunState {
  const { scenario, world, book } = params;
  const vault = new Vault({
    reserves: scenario.chains.map((chain) => chain.vaultReserveUsd),
    marketCount: world.marketCount,
    initialFractions: scenario.markets.map((market) => market.initial),
  });
  return {
    scenario,
    world,
    book,
    tally: new Tally({ accounts: book.count, steps: world.steps, slots: world.pools.length, vaultValue: vault.initialValue, record: params.record }),
    vault,
    limits: new BlockLimits({ scenario, slots: world.pools.length, marketCount: world.marketCount }),
    inFlightCollateral: new Float64Array(book.count),
    maintenance: scenario.markets.map((market) => market.maintenance),
    initial: scenario.markets.map((market) => market.initial),
    penalty: scenario.markets.map((market) => market.penalty),
    liquidationBuffer: scenario.markets.map((market) => market.liquidationBuffer),
  };
}

function recordStep(state: RunState): void {
  const { world, tally, vault } = state;
  const deviations = world.pools.map((pool) => Math.abs(Math.expm1(pool.logDeviation)));
  const poolPrices = world.pools.map((_, slot) => world.poolPrice(slot));
  tally.endStep({ step: world.step, seconds: world.step === 0 ? 0 : world.stepSeconds, deviations, vaultValue: vault.value(world.oraclePrices), poolPrices });
}

/** Accounts still open with negative equity at the final oracle: bad debt not yet written off. */
function openNegativeEquity(state: RunState): number {
  const { book, world } = state;
  let total = 0;
  for (let account = 0; account < book.count; account++) {
    if (!hasPositions(book, account)) continue;
    const equity = equityOf({ book, account, prices: world.oraclePrices, marketCount: world.marketCount });
    if (equity < 0) total -= equity;
  }
  return total;
}
