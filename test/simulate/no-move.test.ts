import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../relayer/simulate/scenario/load.js';
import { simulate } from '../../relayer/simulate/simulate.js';
import { SCENARIOS_DIR } from './fixtures.js';

describe('a scenario with no price move', () => {
  it('liquidates nothing, moves nothing and loses nothing, under every strategy', async () => {
    // march-2020's population and markets (every account opens at or above initial margin),
    // with every price flat for the whole 36 hours.
    const scenario = await loadScenario(new URL('march-2020.json', SCENARIOS_DIR).pathname);
    const flat = Object.fromEntries(scenario.markets.map((market) => [market.id, { type: 'points' as const, points: [{ atSeconds: 0, level: 1 }] }]));
    const result = simulate({ scenario: { ...scenario, pricePaths: flat }, record: true });
    for (const run of result.runs) {
      expect(run.state.tally.events).toEqual({ liquidations: [], transfers: [], plans: [] });
      expect(run.metrics).toMatchObject({ badDebtUsd: 0, slippageUsd: 0, peakImpactPct: 0, penaltiesUsd: 0, gasUsd: 0, vaultPnlUsd: 0, uncoveredShortfallUsd: 0 });
    }
  });
});
