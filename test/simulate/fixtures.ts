/**
 * Small, hand-checkable scenarios: one ETH market at $1,000 (maintenance 5%, initial 10%,
 * penalty 2%), fee-free pools of $1,000,000 (so a pool at $1,000 holds x = 1,000 ETH and
 * y = 1,000,000 USD, k = 1e9), feeds that publish every step, and accounts written out by hand
 * instead of drawn from the population.
 */
import { bookFromAccounts, type AccountSpec } from '../../relayer/simulate/book.js';
import { runStrategy, type StrategyRun } from '../../relayer/simulate/engine.js';
import { parseScenario } from '../../relayer/simulate/scenario/load.js';
import type { Scenario, ScenarioInput } from '../../relayer/simulate/scenario/schema.js';
import type { DecideFn } from '../../relayer/simulate/strategies/relayer/relayer-context.js';
import type { StrategyName } from '../../relayer/simulate/strategy.js';

export const SCENARIOS_DIR = new URL('../../relayer/simulate/scenarios/', import.meta.url);
export const SHIPPED = ['march-2020', 'flash-crash', 'grind-down', 'thin-chain'] as const;

/** A valid scenario document; `alpha` is every account's home, `beta` only holds surplus and a vault. */
export function tinyScenarioInput(): ScenarioInput {
  const pools = { 'ETH-USD': { depthUsd: 1_000_000, fee: 0 } };
  return {
    name: 'tiny',
    seed: 7,
    stepSeconds: 60,
    durationSeconds: 180,
    markets: [
      // A volatility prior near zero and a fresh feed: m_eff is exactly the static 5%.
      { id: 'ETH-USD', initialPrice: 1000, maintenance: 0.05, initial: 0.1, penalty: 0.02, annualVolatility: 1e-4, oracle: { deviation: 0, heartbeatSeconds: 3600 } },
    ],
    chains: [
      { key: 'alpha', gasUsd: 0.1, vaultReserveUsd: 0, pools, transports: { layerzero: { latencySeconds: 120, feeUsd: 1 } } },
      { key: 'beta', gasUsd: 0.2, vaultReserveUsd: 0, accountShare: 0, pools, transports: { layerzero: { latencySeconds: 120, feeUsd: 1 } } },
    ],
    population: { accounts: 200, notionalUsd: { median: 10_000, spread: 0.5 }, leverage: { median: 4, spread: 0.3, max: 10 } },
    pricePaths: { 'ETH-USD': { type: 'points', points: [{ atSeconds: 0, level: 1 }] } },
    impact: { arbitrageHalfLifeSeconds: 60 },
    strategies: { relayer: { actionSeconds: 0, volatilityFloor: 1e-4 } },
  };
}

export function tinyScenario(edit: (input: ScenarioInput) => void = () => undefined): Scenario {
  const input = tinyScenarioInput();
  edit(input);
  return parseScenario(input, 'tiny');
}

/**
 * One strategy over hand-written accounts and a hand-written price per step (the ETH
 * fundamental); `decide` replaces the decision core the relayer strategy asks.
 */
export function runAccounts(params: { scenario: Scenario; accounts: readonly AccountSpec[]; prices: readonly number[]; strategy: StrategyName; decide?: DecideFn }): StrategyRun {
  return runStrategy({
    scenario: params.scenario,
    population: bookFromAccounts(params.accounts),
    fundamentals: [Float64Array.from(params.prices)],
    name: params.strategy,
    openInterestUsd: 1,
    record: true,
    ...(params.decide ? { decide: params.decide } : {}),
  });
}

/** The run's recorded events (a run made by `runAccounts` always records). */
export function eventsOf(run: StrategyRun) {
  const events = run.state.tally.events;
  if (events === undefined) throw new Error('the run did not record events');
  return events;
}
