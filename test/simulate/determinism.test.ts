import { describe, expect, it } from 'vitest';
import { resultJson } from '../../relayer/simulate/report/result-json.js';
import { loadScenario } from '../../relayer/simulate/scenario/load.js';
import type { Scenario } from '../../relayer/simulate/scenario/schema.js';
import { simulate, type SimulationResult } from '../../relayer/simulate/simulate.js';
import { SCENARIOS_DIR } from './fixtures.js';

/** The march-2020 scenario cut to 300 accounts and its first 9 hours: the first crash leg. */
async function smallMarch(): Promise<Scenario> {
  const scenario = await loadScenario(new URL('march-2020.json', SCENARIOS_DIR).pathname);
  return { ...scenario, durationSeconds: 9 * 3600, population: { ...scenario.population, accounts: 300 } };
}

/** Everything a run produced, as one string: the events, the series and the metrics. */
function fingerprint(result: SimulationResult): string {
  return JSON.stringify(
    result.runs.map((run) => ({
      metrics: run.metrics,
      events: run.state.tally.events,
      badDebt: Array.from(run.state.tally.badDebtSeries),
      pools: run.state.tally.poolPrices.map((series) => Array.from(series)),
    })),
  );
}

describe('determinism', () => {
  it('gives the same numbers, series and events for the same seed', async () => {
    const scenario = await smallMarch();
    const first = simulate({ scenario, record: true });
    const second = simulate({ scenario, record: true });
    expect(resultJson(second)).toEqual(resultJson(first));
    expect(fingerprint(second) === fingerprint(first)).toBe(true);
    // Something happens in this window, so equal results are not trivially equal.
    expect(first.runs.every((run) => run.metrics.liquidations > 0)).toBe(true);
  });

  it('gives different paths, population and numbers for a different seed', async () => {
    const scenario = await smallMarch();
    const first = simulate({ scenario });
    const other = simulate({ scenario: { ...scenario, seed: scenario.seed + 1 } });
    expect(other.fundamentals[0]).not.toEqual(first.fundamentals[0]);
    expect(other.openInterestUsd).not.toBe(first.openInterestUsd);
    expect(resultJson(other).strategies).not.toEqual(resultJson(first).strategies);
  });
});
