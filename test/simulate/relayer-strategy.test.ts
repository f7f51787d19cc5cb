import { describe, expect, it } from 'vitest';
import { eventsOf, runAccounts, tinyScenario } from './fixtures.js';

// With the tiny scenario's near-zero volatility and no action time, m_eff = m = 5%, so
// warn level = 1.25 MM and target level = 1.5 MM (warn 0.25, target 0.5 by default).
describe('relayer', () => {
  it("covers an at-risk account with its own surplus from another chain, arriving after the transport's latency", () => {
    // At $955: E = 1,000 - 450 = 550, MM = 477.5, warn 596.875 (at risk), target 716.25.
    // Required: 716.25 - 550 = 166.25. The only source: 1,000 of surplus on beta over
    // LayerZero (120 s: two 60 s steps), for gas 0.2 + 0.1 and a fee of 1.
    const run = runAccounts({
      scenario: tinyScenario(),
      accounts: [{ home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1000 }], remote: [{ chain: 1, amount: 1000 }] }],
      prices: [1000, 955, 955, 955],
      strategy: 'relayer',
    });
    const events = eventsOf(run);
    expect(events.plans).toHaveLength(1); // at step 2 the 166.25 in flight covers the need
    expect(events.plans[0]).toMatchObject({ step: 1, required: 166.25, inFlight: 0, uncovered: 0 });
    expect(events.plans[0]?.allocations).toEqual([{ id: 'collateral:beta:layerzero', amount: 166.25 }]);
    expect(events.transfers).toEqual([
      { step: 1, account: 0, kind: 'send', amount: 166.25 },
      { step: 3, account: 0, kind: 'credit', amount: 166.25 },
    ]);
    expect(events.liquidations).toEqual([]);
    expect(run.state.book.collateral[0]).toBeCloseTo(1166.25, 9);
    expect(run.state.book.remoteCollateral[0]).toBeCloseTo(833.75, 9);
    expect(run.metrics).toMatchObject({ penaltiesUsd: 0, badDebtUsd: 0, messageFeesUsd: 1, accountsToppedUp: 1 });
    expect(run.metrics.gasUsd).toBeCloseTo(0.3, 12);
  });

  it('has the home vault absorb the smallest share that restores the target, at the oracle, with no market impact', () => {
    // E = 1,000 + 10 (1,000 - 1,060) = 400 < MM = 500; target 750: required 350. Absorbing a
    // share s costs the penalty 200 s and lowers the target by 750 s: relief 550 s, so s = 7/11.
    const run = runAccounts({
      scenario: tinyScenario((input) => {
        const alpha = input.chains[0];
        if (alpha) alpha.vaultReserveUsd = 10_000;
      }),
      accounts: [{ home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1060 }] }],
      prices: [1000, 1000, 1000, 1000],
      strategy: 'relayer',
    });
    const events = eventsOf(run);
    expect(events.plans[0]?.allocations).toEqual([{ id: 'liquidity:alpha', amount: 350 }]);
    expect(events.liquidations).toHaveLength(1);
    const [event] = events.liquidations;
    expect(event).toMatchObject({ kind: 'absorb', reason: 'plan', slippage: 0, writeOff: 0 });
    expect(event?.fraction).toBeCloseTo(7 / 11, 12);
    expect(event?.penalty).toBeCloseTo((200 * 7) / 11, 9);
    // Equity 400 - 127.27 = 272.73 = 1.5 * 5% * (10 * 4/11) * 1,000: exactly the target.
    const equity = (run.state.book.collateral[0] ?? 0) + (run.state.book.positionSize[0] ?? 0) * (1000 - 1060);
    expect(equity).toBeCloseTo((750 * 4) / 11, 9);
    expect(run.metrics.peakImpactPct).toBe(0);
    expect(run.metrics.vaultPnlUsd).toBeCloseTo((200 * 7) / 11, 9); // the penalty; the price stays flat
  });

  it('without any source, liquidates locally only the share that restores maintenance', () => {
    // E = 400 < MM = 500, no vault, no surplus. Closing a share s of 10 ETH into the pool
    // slips 1e5 s^2 / (1,000 + 10 s) and pays 200 s; maintenance is restored when
    // 400 - 1e5 s^2 / (1,000 + 10 s) - 200 s = 500 (1 - s), i.e. 97,000 s^2 - 299,000 s + 100,000 = 0.
    // Instant arbitrage keeps the next steps' oracle at $1,000, so the sale's own impact does
    // not push the account back under (cascade.test.ts is about that).
    const scenario = tinyScenario((input) => {
      input.impact.arbitrageHalfLifeSeconds = 1e-6;
    });
    const run = runAccounts({ scenario, accounts: [{ home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1060 }] }], prices: [1000, 1000, 1000, 1000], strategy: 'relayer' });
    const share = (299_000 - Math.sqrt(299_000 ** 2 - 4 * 97_000 * 100_000)) / (2 * 97_000); // 0.38172
    const events = eventsOf(run);
    expect(events.liquidations).toHaveLength(1);
    const [event] = events.liquidations;
    expect(event).toMatchObject({ step: 1, kind: 'close', reason: 'plan', permittedBelow: 500 });
    expect(event?.fraction).toBeCloseTo(share, 7);
    // The rest of the required amount (target 750) has no source: it stays uncovered.
    expect(events.plans[0]?.uncovered).toBeGreaterThan(0);
    const size = run.state.book.positionSize[0] ?? 0;
    const equity = (run.state.book.collateral[0] ?? 0) + size * (1000 - 1060);
    expect(size).toBeCloseTo(10 * (1 - share), 6);
    expect(equity).toBeCloseTo(500 * (1 - share), 5); // back at maintenance, not beyond
  });

  it('moves nothing while the account is healthy', () => {
    // At $980: E = 800, warn level 1.25 * 490 = 612.5: healthy.
    const run = runAccounts({
      scenario: tinyScenario(),
      accounts: [{ home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1000 }], remote: [{ chain: 1, amount: 1000 }] }],
      prices: [1000, 980, 980, 980],
      strategy: 'relayer',
    });
    expect(eventsOf(run)).toEqual({ liquidations: [], transfers: [], plans: [] });
  });
});
