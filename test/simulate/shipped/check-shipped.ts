/**
 * The checks every shipped scenario gets, as it ships (no account count or path trimmed): the
 * accounting invariants for every strategy, and the product's claim: `relayer` has no more
 * bad debt, no more price impact (peak, and time-weighted) and no larger net protocol loss than
 * `full`. Where the backstop ends holding a large book (March-2020), the net loss is below
 * `full`'s only once it unwinds (`backstopUnwinds`; off by default, README): checked with it on.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../../relayer/simulate/scenario/load.js';
import { simulate, type SimulationResult } from '../../../relayer/simulate/simulate.js';
import { STRATEGY_NAMES, type StrategyName } from '../../../relayer/simulate/strategy.js';
import { SCENARIOS_DIR } from '../fixtures.js';
import { violations } from '../invariants.js';

export function checkShippedScenario(name: string, options: { netLossOnlyUnwinding?: boolean } = {}): void {
  describe(`shipped scenario ${name}`, () => {
    let result: SimulationResult;
    let unwinding: SimulationResult | undefined;
    const metricsOf = (strategy: StrategyName) => {
      const run = result.runs.find((candidate) => candidate.name === strategy);
      if (run === undefined) throw new Error(`no ${strategy} run`);
      return run.metrics;
    };

    beforeAll(async () => {
      const scenario = await loadScenario(new URL(`${name}.json`, SCENARIOS_DIR).pathname);
      result = simulate({ scenario, record: true });
      if (options.netLossOnlyUnwinding) unwinding = simulate({ scenario: { ...scenario, strategies: { ...scenario.strategies, relayer: { ...scenario.strategies.relayer, backstopUnwinds: true } } }, strategies: ['relayer'] });
    });

    it.each(STRATEGY_NAMES)('%s keeps every account to the cent, its totals, and the liquidation rules', (strategy) => {
      const run = result.runs.find((candidate) => candidate.name === strategy);
      expect(run).toBeDefined();
      if (run) expect(violations(run, result.population)).toEqual([]);
    });

    it('relayer has no more bad debt than full', () => {
      expect(metricsOf('relayer').badDebtUsd).toBeLessThanOrEqual(metricsOf('full').badDebtUsd);
    });

    it(`relayer's net protocol loss is no more than full's${options.netLossOnlyUnwinding ? ' once its backstop unwinds' : ''}`, () => {
      const relayer = unwinding?.runs.find((run) => run.name === 'relayer')?.metrics ?? metricsOf('relayer');
      expect(relayer.netProtocolLossUsd).toBeLessThanOrEqual(metricsOf('full').netProtocolLossUsd);
    });

    it('relayer has no more price impact than full, at its peak and over time', () => {
      expect(metricsOf('relayer').peakImpactPct).toBeLessThanOrEqual(metricsOf('full').peakImpactPct);
      expect(metricsOf('relayer').timeWeightedImpactPct).toBeLessThanOrEqual(metricsOf('full').timeWeightedImpactPct);
    });
  });
}
