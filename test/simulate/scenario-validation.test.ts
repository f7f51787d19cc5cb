import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../relayer/errors.js';
import { parseScenario } from '../../relayer/simulate/scenario/load.js';
import type { ScenarioInput } from '../../relayer/simulate/scenario/schema.js';
import { tinyScenarioInput } from './fixtures.js';

const AUCTION = { buf: 1.02, cut: 0.99, cusp: 0.7, stepSeconds: 60, tailSeconds: 3600 };

function errorOf(edit: (input: ScenarioInput & Record<string, unknown>) => void): string {
  const input = tinyScenarioInput() as ScenarioInput & Record<string, unknown>;
  edit(input);
  try {
    parseScenario(input, 'crash.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).shortMessage;
  }
  throw new Error('the scenario was accepted');
}

describe('scenario validation', () => {
  it('accepts the fixture and fills the defaults', () => {
    const scenario = parseScenario(tinyScenarioInput(), 'tiny');
    expect(scenario.strategies.closeFactor).toEqual({ closeFactor: 0.5, fullBelowHealth: 0.95, minPositionUsd: 2000, dustUsd: 1000 });
    expect(scenario.strategies.relayer).toMatchObject({ z: 3, lambda: 0.94, warn: 0.25, target: 0.5, backstopUnwinds: false, localImpactBudget: 0.02, unwindImpactBudget: 0.01 });
    expect(scenario.population.longShare).toBe(0.5);
  });

  it.each<[string, (input: ScenarioInput & Record<string, unknown>) => void, string]>([
    ['a fraction out of range', (s) => void (s.markets[0] && (s.markets[0].maintenance = 1.5)), 'crash.json: markets[0].maintenance: must be in (0, 1)'],
    ['initial margin not above maintenance', (s) => void (s.markets[0] && (s.markets[0].initial = 0.04)), 'crash.json: markets[0].initial: must be greater than maintenance (0.05)'],
    ['a missing field', (s) => void delete (s as Partial<ScenarioInput>).stepSeconds, 'crash.json: stepSeconds: Invalid input: expected number, received undefined'],
    ['a misspelt field', (s) => void Object.assign(s.population, { acounts: 5 }), 'crash.json: population: Unrecognized key: "acounts"'],
    ['a chain without a pool for a market', (s) => void (s.chains[1] && (s.chains[1].pools = {})), 'crash.json: chains[1].pools.ETH-USD: is missing: every chain needs a pool for every market'],
    ['a market without a price path', (s) => void (s.pricePaths = {}), 'crash.json: pricePaths.ETH-USD: is missing: every market needs a price path'],
    ['leverage beyond initial margin', (s) => void (s.population.leverage.max = 12), 'crash.json: population.leverage.max: must be at most 1 / initial of market ETH-USD (10)'],
    ['points out of order', (s) => void (s.pricePaths = { 'ETH-USD': { type: 'points', points: [{ atSeconds: 0, level: 1 }, { atSeconds: 60, level: 0.9 }, { atSeconds: 30, level: 0.8 }] } }), 'crash.json: pricePaths.ETH-USD.points[2].atSeconds: must be after the previous point'],
    ['an unknown path type', (s) => void (s.pricePaths = { 'ETH-USD': { type: 'walk' } as never }), "crash.json: pricePaths.ETH-USD.type: Invalid discriminator value. Expected 'points' | 'generator'"],
    ['a target not above warn', (s) => void (s.strategies = { relayer: { warn: 0.3, target: 0.2 } }), 'crash.json: strategies.relayer.target: must be greater than warn (0.3)'],
    ['a fractional step', (s) => void (s.stepSeconds = 0.5), 'crash.json: stepSeconds: must be a whole number of seconds'],
    ['a home-close budget of 0', (s) => void (s.strategies = { relayer: { localImpactBudget: 0 } }), 'crash.json: strategies.relayer.localImpactBudget: must be in (0, 1)'],
    ['an unwind budget of 1', (s) => void (s.strategies = { relayer: { unwindImpactBudget: 1 } }), 'crash.json: strategies.relayer.unwindImpactBudget: must be in (0, 1)'],
    ['an auction cut of 1', (s) => void (s.markets[0] && (s.markets[0].auction = { ...AUCTION, cut: 1 })), 'crash.json: markets[0].auction.cut: must be in (0, 1)'],
    ['an auction cut of 0', (s) => void (s.markets[0] && (s.markets[0].auction = { ...AUCTION, cut: 0 })), 'crash.json: markets[0].auction.cut: must be in (0, 1)'],
    ['an auction cusp above 1', (s) => void (s.markets[0] && (s.markets[0].auction = { ...AUCTION, cusp: 1.2 })), 'crash.json: markets[0].auction.cusp: must be in (0, 1]'],
    ['an auction starting below the oracle', (s) => void (s.markets[0] && (s.markets[0].auction = { ...AUCTION, buf: 0.9 })), 'crash.json: markets[0].auction.buf: must be at least 1'],
    ['a liquidation buffer past initial margin', (s) => void (s.markets[0] && (s.markets[0].liquidationBuffer = 0.06)), 'crash.json: markets[0].liquidationBuffer: must be at most initial - maintenance (0.05)'],
    ['a negative liquidation buffer', (s) => void (s.markets[0] && (s.markets[0].liquidationBuffer = -0.01)), 'crash.json: markets[0].liquidationBuffer: must be at least 0'],
    ['a negative per-block cap', (s) => void (s.markets[0] && (s.markets[0].maxNotionalPerBlockUsd = -5)), 'crash.json: markets[0].maxNotionalPerBlockUsd: must be a number > 0'],
    ['a takers\' margin of 1', (s) => void (s.impact = { arbitrageHalfLifeSeconds: 60, auctionTakerMargin: 1 }), 'crash.json: impact.auctionTakerMargin: must be in [0, 1)'],
    ['an unknown transport', (s) => void Object.assign(s.chains[0]?.transports ?? {}, { ccip: { latencySeconds: 1, feeUsd: 1 } }), 'crash.json: chains[0].transports: Unrecognized key: "ccip"'],
  ])('refuses %s, naming the field', (_, edit, message) => {
    expect(errorOf(edit)).toBe(message);
  });
});
