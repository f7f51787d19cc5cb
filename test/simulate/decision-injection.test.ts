/**
 * The relayer strategy decides nothing itself: it asks the decision core it is given (by
 * default relayer/policy's `decide`) and carries out the answer. So a change in the core's
 * decision changes the simulator's behaviour, in the direction the change implies, and leaves
 * the other strategies exactly as they were.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decide, type PolicyDecision, type PolicySnapshot } from '../../relayer/policy/index.js';
import { loadScenario } from '../../relayer/simulate/scenario/load.js';
import type { Scenario } from '../../relayer/simulate/scenario/schema.js';
import { simulate, type SimulationResult } from '../../relayer/simulate/simulate.js';
import { SCENARIOS_DIR } from './fixtures.js';

/** The march-2020 scenario cut to 300 accounts and its first 9 hours: the first crash leg. */
async function smallMarch(): Promise<Scenario> {
  const scenario = await loadScenario(new URL('march-2020.json', SCENARIOS_DIR).pathname);
  return { ...scenario, durationSeconds: 9 * 3600, population: { ...scenario.population, accounts: 300 } };
}

/** The core, but never acting. */
const never = (snapshot: PolicySnapshot): PolicyDecision => {
  const decision = decide(snapshot);
  return { kind: 'none', reason: 'not at risk', need: decision.need, uncovered: 0n };
};

/** The core, with the liquidity legs of its plans dropped. */
const withoutLiquidity = (snapshot: PolicySnapshot): PolicyDecision => {
  const decision = decide(snapshot);
  if (decision.kind !== 'plan') return decision;
  const legs = decision.legs.filter((leg) => leg.kind !== 'liquidity');
  return legs.length === 0 ? { kind: 'none', reason: 'no source can cover it', need: decision.need, uncovered: decision.need } : { ...decision, legs };
};

const metricsOf = (result: SimulationResult, name: 'full' | 'relayer') => {
  const run = result.runs.find((candidate) => candidate.name === name);
  if (run === undefined) throw new Error(`no ${name} run`);
  return run.metrics;
};

describe('the relayer strategy acts on the decision core it is given', () => {
  let scenario: Scenario;
  let real: SimulationResult;

  beforeAll(async () => {
    scenario = await smallMarch();
    real = simulate({ scenario, strategies: ['full', 'relayer'] });
  });

  it('with the real core it acts: home closes, absorptions of landed liquidity, own collateral moved', () => {
    const metrics = metricsOf(real, 'relayer');
    expect(metrics.liquidations).toBeGreaterThan(0);
    expect(metrics.notionalLiquidatedUsd).toBeGreaterThan(0);
    expect(metrics.notionalAbsorbedUsd).toBeGreaterThan(0);
    expect(metrics.collateralMovedUsd).toBeGreaterThan(0);
  });

  it('with a core that decides nothing it does nothing, and accounts stay below maintenance longer', () => {
    const idle = simulate({ scenario, strategies: ['full', 'relayer'], record: true, decide: never });
    const relayer = idle.runs.find((run) => run.name === 'relayer');
    expect(relayer?.state.tally.events).toEqual({ liquidations: [], transfers: [], plans: [] });
    expect(metricsOf(idle, 'relayer')).toMatchObject({ liquidations: 0, gasUsd: 0, messageFeesUsd: 0, collateralMovedUsd: 0, liquidityMovedUsd: 0, slippageUsd: 0 });
    expect(metricsOf(idle, 'relayer').underwaterAccountHours).toBeGreaterThan(metricsOf(real, 'relayer').underwaterAccountHours);
    // The other strategies never ask the core.
    expect(metricsOf(idle, 'full')).toEqual(metricsOf(real, 'full'));
  });

  it('with a core whose plans carry no liquidity legs, no vault liquidity moves and the backstop absorbs nothing', () => {
    const changed = simulate({ scenario, strategies: ['relayer'], decide: withoutLiquidity });
    const metrics = metricsOf(changed, 'relayer');
    expect(metrics).toMatchObject({ liquidityMovedUsd: 0, notionalAbsorbedUsd: 0 });
    expect(metrics.collateralMovedUsd).toBeGreaterThan(0);
    expect(metricsOf(real, 'relayer').liquidityMovedUsd).toBeGreaterThan(0);
  });
});
