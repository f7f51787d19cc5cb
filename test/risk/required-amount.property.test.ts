import { describe, expect, it } from 'vitest';
import { assessAccount } from '../../relayer/risk/account-health.js';
import { compileAccount } from '../../relayer/risk/compiled-account.js';
import { marketCatalog } from '../../relayer/risk/market-catalog.js';
import { marketTable, type MarketTable } from '../../relayer/risk/market-table.js';
import { requiredAmount } from '../../relayer/risk/required-amount.js';
import { SeededRandom } from '../../relayer/seeded-random.js';
import type { AccountState, MarketParams, MarketState } from '../../relayer/risk/types.js';
import { config, T0 } from './fixtures.js';
import { randomAccount, randomMarkets, randomPrice } from './generators.js';

const SEEDS = [11, 12, 13, 14, 15, 16];

/** Fresh markets (the required amount is about prices, not about doubtful feeds). */
function world(seed: number) {
  const random = new SeededRandom(seed);
  const markets = randomMarkets(random);
  const prices = markets.map((market) => randomPrice(random, market));
  const variances = markets.map(() => random.pick([1e-10, 1e-8, 1e-6, 1e-5]));
  const settings = config({ actionSeconds: random.pick([0, 30, 600]), warn: random.pick([0, 0.05, 0.1]), target: random.pick([0.15, 0.3]), forecastLevel: random.chance(0.5) ? 0.05 : undefined });
  const tableAt = (answers: readonly bigint[], variance: (i: number) => number = (i) => variances[i] ?? 0): MarketTable => {
    const states: MarketState[] = markets.map((market, i) => ({
      round: { market: market.id, roundId: 1n, answer: answers[i] ?? 1n, updatedAt: T0 - 10 },
      variance: variance(i),
    }));
    return marketTable({ catalog: marketCatalog(markets), config: settings, states, now: T0 });
  };
  return { random, markets, prices, tableAt };
}

const required = (account: AccountState, table: MarketTable): bigint => requiredAmount(compileAccount(account, table.catalog), table) ?? -1n;

describe('the required amount', () => {
  it.each(SEEDS)('restores exactly the target: adding it reaches it, one base unit less does not (seed %i)', (seed) => {
    const { random, markets, prices, tableAt } = world(seed);
    const table = tableAt(prices);
    let positive = 0;
    for (let i = 0; i < 300; i++) {
      const account = randomAccount({ random, id: `a${i}`, markets, prices });
      const amount = required(account, table);
      expect(amount).toBeGreaterThanOrEqual(0n);
      const topped = assessAccount({ ...account, collateral: account.collateral + amount }, table);
      expect(topped.valuation?.requiredAmount).toBe(0n);
      // At the target, which is above the warn level: no longer below it.
      expect(topped.reasons).not.toContainEqual({ kind: 'below-warn' });
      if (amount > 0n) {
        positive += 1;
        expect(required({ ...account, collateral: account.collateral + amount - 1n }, table)).toBe(1n);
      }
    }
    expect(positive).toBeGreaterThan(30);
  });

  it.each(SEEDS)('never falls when a price moves against the position (seed %i)', (seed) => {
    const { random, markets, prices, tableAt } = world(seed);
    for (let i = 0; i < 300; i++) {
      const account = randomAccount({ random, id: `a${i}`, markets, prices });
      const position = random.pick(account.positions);
      const index = markets.findIndex((market: MarketParams) => market.id === position.market);
      const before = required(account, tableAt(prices));
      let previous = before;
      // A path of ever larger adverse moves, down to one base unit of price.
      for (const move of [1n, 2n, 1000n, 100_000n]) {
        const moved = prices.map((price, j) => (j !== index ? price : position.size > 0n ? max(1n, price - (price * move) / 100_000n - move) : price + (price * move) / 100_000n + move));
        const after = required(account, tableAt(moved));
        expect(after).toBeGreaterThanOrEqual(previous);
        previous = after;
      }
    }
  });

  it.each(SEEDS)('never falls when volatility rises (seed %i)', (seed) => {
    const { random, markets, prices, tableAt } = world(seed);
    for (let i = 0; i < 200; i++) {
      const account = randomAccount({ random, id: `a${i}`, markets, prices });
      let previous = -1n;
      for (const variance of [1e-12, 1e-9, 1e-7, 1e-5, 1e-3]) {
        const amount = required(account, tableAt(prices, () => variance));
        expect(amount).toBeGreaterThanOrEqual(previous);
        previous = amount;
      }
    }
  });
});

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
