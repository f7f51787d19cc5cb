import { describe, expect, it } from 'vitest';
import { eventsOf, runAccounts, tinyScenario } from './fixtures.js';

// A is below maintenance at $1,000 (E = 400 < 500); B is not (E = 550 >= 500) and stays so
// unless the price falls under 990.5: E = 550 + 10 (P - 1,000) < 0.5 P  <=>  P < 990.48.
const accounts = [
  { home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1060 }] },
  { home: 0, collateral: 550, positions: [{ market: 0, size: 10, entry: 1000 }] },
];
const flat = [1000, 1000, 1000, 1000];

describe('the cascade', () => {
  it("under full, A's sale moves the pool, the feed follows, and B falls under maintenance", () => {
    // A sells 10 ETH: the pool goes to 1e9 / 1,010^2 = 980.30. One half-life of arbitrage later
    // (one 60 s step) the log deviation has halved: the feed reads 1,000 * sqrt(0.98030) = 990.10.
    const run = runAccounts({ scenario: tinyScenario(), accounts, prices: flat, strategy: 'full' });
    const [first, second, ...rest] = eventsOf(run).liquidations;
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ step: 1, account: 0 });
    expect(second).toMatchObject({ step: 2, account: 1 });
    const oracle = 1000 * Math.sqrt(1e9 / 1010 ** 2 / 1000);
    expect(second?.equityBefore).toBeCloseTo(550 + 10 * (oracle - 1000), 6); // 451.0
    expect(second?.permittedBelow).toBeCloseTo(10 * oracle * 0.05, 6); // 495.0
  });

  it('without price impact (instant arbitrage) B is never liquidated', () => {
    const scenario = tinyScenario((input) => {
      input.impact.arbitrageHalfLifeSeconds = 1e-6;
    });
    const run = runAccounts({ scenario, accounts, prices: flat, strategy: 'full' });
    expect(eventsOf(run).liquidations.map((event) => event.account)).toEqual([0]);
  });
});
