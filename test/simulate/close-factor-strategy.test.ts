import { describe, expect, it } from 'vitest';
import { eventsOf, runAccounts, tinyScenario } from './fixtures.js';

// Aave v3.3's rule on a perp account: health E / MM; 50% above 0.95 health when notional and
// equity are at least $2,000, everything otherwise or when the half would leave dust.
describe('close-factor', () => {
  it('closes half of a large position above 0.95 health, then the next half at the next step', () => {
    // 100 ETH at entry 1,004, collateral 5,300: E = 5,300 - 400 = 4,900, MM = 5,000: health 0.98.
    const run = runAccounts({ scenario: tinyScenario(), accounts: [{ home: 0, collateral: 5300, positions: [{ market: 0, size: 100, entry: 1004 }] }], prices: [1000, 1000, 1000, 1000], strategy: 'close-factor' });
    const [first, second] = eventsOf(run).liquidations;
    // Half: 50 ETH into x = 1,000, y = 1e6: 1e6 * 50 / 1,050 = 47,619.05, slippage 2,380.95.
    expect(first).toMatchObject({ step: 1, reason: 'close-factor', fraction: 0.5, equityBefore: 4900, writeOff: 0 });
    expect(first?.slippage).toBeCloseTo(50_000 - (1e6 * 50) / 1050, 9);
    // Penalty 2% of $50,000 = 1,000, covered by the 2,519.05 of equity left after the sale.
    expect(first?.penalty).toBeCloseTo(1000, 9);
    const collateralAfterFirst = 5300 + (1e6 * 50) / 1050 - 50 * 1004 - 1000; // 1,719.05
    // At step 2 the oracle reads the pool after one half-life of arbitrage: 1,000 * (1,000 / 1,050).
    const oracle = 1000 * Math.sqrt(1e9 / 1050 ** 2 / 1000);
    const equity = collateralAfterFirst + 50 * (oracle - 1004);
    expect(second).toMatchObject({ step: 2, reason: 'close-factor' });
    expect(second?.equityBefore).toBeCloseTo(equity, 6);
    // Health 0.67 by then: the rule closes everything.
    expect(equity / (50 * oracle * 0.05)).toBeLessThan(0.95);
    expect(second?.fraction).toBe(1);
  });

  it('closes everything at or below 0.95 health', () => {
    // E = 5,400 - 1,000 = 4,400, MM = 5,000: health 0.88. Selling 100 ETH returns 90,909.09:
    // collateral 5,400 + 90,909.09 - 101,000 = -4,690.91, written off.
    const run = runAccounts({ scenario: tinyScenario(), accounts: [{ home: 0, collateral: 5400, positions: [{ market: 0, size: 100, entry: 1010 }] }], prices: [1000, 1000, 1000, 1000], strategy: 'close-factor' });
    const [event] = eventsOf(run).liquidations;
    expect(event?.fraction).toBe(1);
    expect(event?.writeOff).toBeCloseTo(101_000 - 5400 - (1e6 * 100) / 1100, 6);
  });

  it('closes everything when the position is under the $2,000 minimum for a partial close', () => {
    // 1.9 ETH at entry 1,001, collateral 95: E = 95 - 1.9 = 93.1, MM = 95: health 0.98, but $1,900 of notional.
    const run = runAccounts({ scenario: tinyScenario(), accounts: [{ home: 0, collateral: 95, positions: [{ market: 0, size: 1.9, entry: 1001 }] }], prices: [1000, 1000, 1000, 1000], strategy: 'close-factor' });
    const [event] = eventsOf(run).liquidations;
    expect(event?.equityBefore).toBeCloseTo(93.1, 9);
    expect(event?.fraction).toBe(1);
  });

  it('closes everything when half would leave dust: less equity than dustUsd after the penalty', () => {
    // 50 ETH at entry 1,000.8, collateral 2,480: E = 2,440, MM = 2,500 (health 0.976). Half
    // leaves $25,000 of notional and 2,440 - 500 (2% of the $25,000 closed) = 1,940 of equity.
    const account = { home: 0, collateral: 2480, positions: [{ market: 0, size: 50, entry: 1000.8 }] };
    const partial = runAccounts({ scenario: tinyScenario(), accounts: [account], prices: [1000, 1000, 1000, 1000], strategy: 'close-factor' });
    expect(eventsOf(partial).liquidations[0]?.fraction).toBe(0.5); // 1,940 >= $1,000
    const stricter = tinyScenario((input) => {
      input.strategies = { ...input.strategies, closeFactor: { dustUsd: 2000 } };
    });
    const whole = runAccounts({ scenario: stricter, accounts: [account], prices: [1000, 1000, 1000, 1000], strategy: 'close-factor' });
    expect(eventsOf(whole).liquidations[0]?.fraction).toBe(1); // 1,940 < $2,000
  });
});
