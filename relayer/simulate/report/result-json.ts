/** `relayer simulate --format json`: the scenario's identity and each strategy's metrics. */
import type { SimulationResult } from '../simulate.js';
import { METRIC_ROWS, roundMetric } from './metric-rows.js';

export interface SimulationJson {
  readonly scenario: {
    readonly name: string;
    readonly seed: number;
    readonly accounts: number;
    readonly steps: number;
    readonly stepSeconds: number;
    readonly openInterestUsd: number;
  };
  readonly strategies: Record<string, Record<string, number>>;
}

export function resultJson(result: SimulationResult): SimulationJson {
  const { scenario } = result;
  return {
    scenario: {
      name: scenario.name,
      seed: scenario.seed,
      accounts: result.population.count,
      steps: result.steps,
      stepSeconds: scenario.stepSeconds,
      openInterestUsd: roundMetric(result.openInterestUsd, 'usd'),
    },
    strategies: Object.fromEntries(
      result.runs.map((run) => [run.name, Object.fromEntries(METRIC_ROWS.map((row) => [row.key, roundMetric(run.metrics[row.key], row.unit)]))]),
    ),
  };
}
