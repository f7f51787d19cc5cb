import { describe, expect, it } from 'vitest';
import { assessAccount } from '../../relayer/risk/account-health.js';
import { marketCatalog } from '../../relayer/risk/market-catalog.js';
import { marketTable } from '../../relayer/risk/market-table.js';
import { SeededRandom } from '../../relayer/seeded-random.js';
import { config, T0 } from './fixtures.js';
import { randomAccount, randomMarkets, randomMarketState, randomPrice } from './generators.js';
import { referenceVerdict, type ReferenceMarket } from './reference.js';

describe('the module agrees with an independent statement of section 5', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('on random markets and accounts (seed %i)', (seed) => {
    const random = new SeededRandom(seed);
    const markets = randomMarkets(random);
    const prices = markets.map((market) => randomPrice(random, market));
    const states = markets.map((market, i) => randomMarketState(random, market, prices[i]));
    const settings = config({ actionSeconds: random.pick([0, 30, 600]), forecastLevel: random.chance(0.5) ? random.pick([0.01, 0.2]) : undefined });
    const table = marketTable({ catalog: marketCatalog(markets), config: settings, states, now: T0 });
    const byId = new Map<string, ReferenceMarket>(markets.map((params, i) => [params.id, { params, state: states[i] ?? { round: undefined, variance: 0 } }]));
    let atRisk = 0;
    for (let i = 0; i < 400; i++) {
      const account = randomAccount({ random, id: `a${i}`, markets, prices });
      const expected = referenceVerdict({ account, markets: byId, config: settings, now: T0 });
      const health = assessAccount(account, table);
      expect(health.atRisk, `account ${i}`).toBe(expected.atRisk);
      expect(health.valuation?.equity).toBe(expected.equity?.floor());
      expect(health.valuation?.maintenance).toBe(expected.maintenance?.ceil());
      if (expected.equity !== undefined && expected.target !== undefined) {
        const gap = expected.target.sub(expected.equity).ceil();
        expect(health.valuation?.requiredAmount).toBe(gap > 0n ? gap : 0n);
      }
      if (health.atRisk) atRisk += 1;
    }
    // The generator must produce both verdicts, or the comparison proves little.
    expect(atRisk).toBeGreaterThan(20);
    expect(atRisk).toBeLessThan(380);
  });
});
