import { describe, expect, it } from 'vitest';
import { eventsOf, runAccounts, tinyScenario } from './fixtures.js';

// The pool at $1,000: x = 1,000 ETH, y = 1,000,000 USD, no fee. Selling q ETH returns
// y - k / (x + q) = 1e6 * q / (1000 + q) USD and leaves the pool at k / (1000 + q)^2.
describe('full', () => {
  it('closes the whole position below maintenance, at the pool, with the penalty from what is left', () => {
    // E = 1,000 + 10 (1,000 - 1,060) = 400 < MM = 10 * 1,000 * 5% = 500.
    const run = runAccounts({ scenario: tinyScenario(), accounts: [{ home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1060 }] }], prices: [1000, 1000, 1000, 1000], strategy: 'full' });
    const [event, ...rest] = eventsOf(run).liquidations;
    expect(rest).toEqual([]);
    const proceeds = (1e6 * 10) / 1010; // 9,900.990099
    expect(event).toMatchObject({ step: 1, kind: 'close', reason: 'maintenance', fraction: 1, equityBefore: 400, permittedBelow: 500, writeOff: 0 });
    expect(event?.slippage).toBeCloseTo(10_000 - proceeds, 9); // 99.009901
    expect(event?.pnlAtOracle).toBeCloseTo(-600, 9);
    expect(event?.penalty).toBeCloseTo(200, 9); // 2% of $10,000: equity after the sale (300.99) covers it
    expect(run.state.book.collateral[0]).toBeCloseTo(1000 + proceeds - 10_600 - 200, 9); // 100.990099
    expect(run.state.book.positionSize[0]).toBe(0);
    expect(run.metrics.badDebtUsd).toBe(0);
    // The pool ends at 1e9 / 1010^2 = 980.296: -1.97%, the peak impact.
    expect(run.metrics.peakImpactPct).toBeCloseTo(100 * (1 - 1e9 / 1010 ** 2 / 1000), 9);
    expect(run.metrics.gasUsd).toBeCloseTo(0.1, 12);
  });

  it('writes off what the sale leaves negative as bad debt, and charges no penalty then', () => {
    // E = 900 + 10 (1,000 - 1,100) = -100: the sale realizes 9,900.99 - 11,000 on 900 of collateral.
    const run = runAccounts({ scenario: tinyScenario(), accounts: [{ home: 0, collateral: 900, positions: [{ market: 0, size: 10, entry: 1100 }] }], prices: [1000, 1000, 1000, 1000], strategy: 'full' });
    const [event] = eventsOf(run).liquidations;
    const deficit = 11_000 - (1e6 * 10) / 1010 - 900; // 199.009901
    expect(event?.penalty).toBe(0);
    expect(event?.writeOff).toBeCloseTo(deficit, 9);
    expect(run.metrics.badDebtUsd).toBeCloseTo(deficit, 9);
    expect(run.state.book.collateral[0]).toBe(0);
  });

  it('leaves a healthy account alone', () => {
    // E = 1,000 + 10 (955 - 1,000) = 550 >= MM = 477.5.
    const run = runAccounts({ scenario: tinyScenario(), accounts: [{ home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1000 }] }], prices: [1000, 955, 955, 955], strategy: 'full' });
    expect(eventsOf(run).liquidations).toEqual([]);
  });
});
