import { describe, expect, it } from 'vitest';
import { decide, type PolicySnapshot } from '../../relayer/policy/index.js';
import { eventsOf, runAccounts, tinyScenario } from './fixtures.js';

// With the tiny scenario's near-zero volatility and no action time, m_eff = m = 5%, so
// warn level = 1.25 MM and target level = 1.5 MM (warn 0.25, target 0.5 by default); IM is 10%
// of notional, the penalty 2%. Every decision is the core's (relayer/policy); these tests check
// what the simulated world does with it under the contracts' rules.
const withVault = (chain: 0 | 1, reserve: number) =>
  tinyScenario((input) => {
    const spec = input.chains[chain];
    if (spec) spec.vaultReserveUsd = reserve;
  });

/** The decision core, recording every snapshot it is given. */
function recordingDecide(): { snapshots: PolicySnapshot[]; decide: typeof decide } {
  const snapshots: PolicySnapshot[] = [];
  return {
    snapshots,
    decide: (snapshot) => {
      snapshots.push(snapshot);
      return decide(snapshot);
    },
  };
}

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
    expect(events.plans[0]).toMatchObject({ step: 1, kind: 'plan', required: 166.25, inFlight: 0, uncovered: 0 });
    expect(events.plans[0]?.allocations).toEqual([{ id: 'collateral:beta:layerzero', amount: 166.25 }]);
    // Sent at step 1, credited two steps later: never in the step it left.
    expect(events.transfers).toEqual([
      { step: 1, account: 0, kind: 'send', amount: 166.25 },
      { step: 3, account: 0, kind: 'credit', amount: 166.25 },
    ]);
    expect(events.liquidations).toEqual([]);
    expect(run.state.book.collateral[0]).toBeCloseTo(1166.25, 9);
    expect(run.state.book.remoteCollateral[0]).toBeCloseTo(833.75, 9);
    expect(run.metrics).toMatchObject({ penaltiesUsd: 0, badDebtUsd: 0, messageFeesUsd: 1, accountsToppedUp: 1 });
    expect(run.metrics.gasUsd).toBeCloseTo(0.3, 12);
    // Net protocol loss counts what the legs cost: gas and the message fee.
    expect(run.metrics.netProtocolLossUsd).toBeCloseTo(1.3, 9);
  });

  describe('a liquidity leg from another chain', () => {
    // 10 ETH at entry 1,045, collateral 1,000, at $1,000: E = 550, MM = 500 (not liquidatable),
    // warn 625 (at risk), IM = 1,000, target 750: required 200. Beta's vault (10,000) is the only
    // source. A takeover of notional x relieves x (7.5% - 2%), so x = 200 / 0.055 = 3,636.36
    // ($3.636 ETH at $1,000), for 10% of it as the backstop's margin: 363.64 leaves beta at
    // step 1 and lands two steps later (LayerZero, 120 s).
    const account = { home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1045 }] };
    const size = 200 / 0.055 / 1000;
    const run = (priceAtLanding: number) => runAccounts({ scenario: withVault(1, 10_000), accounts: [account], prices: [1000, 1000, 1000, priceAtLanding], strategy: 'relayer' });

    it('debits the source vault now and has the backstop absorb only when it lands, at the oracle minus the penalty', () => {
      const result = run(1000);
      const events = eventsOf(result);
      expect(events.plans).toHaveLength(1);
      expect(events.plans[0]).toMatchObject({ step: 1, kind: 'plan', required: 200, inFlight: 0, uncovered: 0 });
      expect(events.plans[0]?.allocations.map((a) => a.id)).toEqual(['liquidity:beta:layerzero']);
      expect(events.plans[0]?.allocations[0]?.amount).toBeCloseTo(200, 5);
      expect(result.metrics.liquidityMovedUsd).toBeCloseTo(363.636364, 6);
      expect(events.liquidations).toHaveLength(1);
      const [event] = events.liquidations;
      expect(event).toMatchObject({ step: 3, kind: 'absorb', reason: 'arrival', slippage: 0, writeOff: 0, equityBefore: 550, permittedBelow: 1000 });
      expect(event?.fraction).toBeCloseTo(size / 10, 8);
      expect(event?.penalty).toBeCloseTo(0.02 * size * 1000, 5);
      // absorbUpTo's cap here: (IM - E) / (P (im - pen)) = 450 / 80 = 5.625 ETH; the leg asked for less.
      expect(event?.limitNotional).toBeCloseTo(5625, 3);
      // The account books P (1 - pen) = 980 against its entry: E = 550 - 72.73 = 477.27, its new target.
      const { book, vault } = result.state;
      const equity = (book.collateral[0] ?? 0) + (book.positionSize[0] ?? 0) * (1000 - 1045);
      expect(equity).toBeCloseTo(0.075 * (10 - size) * 1000, 4);
      // The backstop (alpha) holds 3.636 ETH at 980, with the landed margin; beta paid it.
      expect(vault.inventory[0]).toBeCloseTo(size, 8);
      expect(vault.entry[0]).toBeCloseTo(980, 9);
      expect(vault.reserve[0]).toBeCloseTo(363.636364, 6);
      expect(vault.reserve[1]).toBeCloseTo(10_000 - 363.636364, 6);
      expect(result.metrics.peakImpactPct).toBe(0);
      // Vault PnL marks the inventory at what selling it into alpha's pool would fetch, not at the oracle.
      const exit = (1e6 * size) / (1000 + size) - size * 980;
      expect(result.metrics.vaultPnlUsd).toBeCloseTo(exit, 4);
      expect(result.metrics.vaultPnlUsd).toBeLessThan(event?.penalty ?? 0);
      expect(result.metrics.netProtocolLossUsd).toBeCloseTo(-exit + 0.3 + 1, 4);
    });

    it('with unwinding on, sells what it absorbed over several steps, each within the budget of the fundamental', () => {
      // A 0.1% budget in a pool of 1,000 ETH at $1,000: a step's sale is at most 1,000 (1 / sqrt(0.999) - 1)
      // = 0.5004 ETH, so the 3.636 ETH absorbed at step 3 take 8 steps to sell; arbitrage (60 s half-life)
      // brings the pool back in between.
      const unwinding = (steps: number) =>
        runAccounts({
          scenario: tinyScenario((input) => {
            const beta = input.chains[1];
            if (beta) beta.vaultReserveUsd = 10_000;
            input.strategies = { relayer: { actionSeconds: 0, volatilityFloor: 1e-4, backstopUnwinds: true, unwindImpactBudget: 0.001 } };
            input.durationSeconds = (3 + steps) * 60;
          }),
          accounts: [account],
          prices: [1000, 1000, 1000, ...Array.from({ length: steps }, () => 1000)],
          strategy: 'relayer',
        });
      const perStep = 1000 * (1 / Math.sqrt(0.999) - 1);
      const [two = 0, four = 0, twenty = 0] = [2, 4, 20].map((steps) => unwinding(steps).state.vault.inventory[0] ?? 0);
      // Landed (and first sold) at step 3: after n steps from there at most n sales of perStep.
      expect(two).toBeGreaterThanOrEqual(size - 2 * perStep - 1e-9);
      expect(two).toBeGreaterThan(0);
      expect(four).toBeLessThan(two);
      expect(four).toBeGreaterThanOrEqual(size - 4 * perStep - 1e-9);
      expect(twenty).toBeCloseTo(0, 6);
    });

    it('absorbs no more than the size that restores initial margin when the price partly recovered', () => {
      // At $1,040: E = 950 < IM = 1,040; the cap is 90 / (1,040 * 8%) = 1.0817 ETH < the 3.636 asked.
      const result = run(1040);
      const [event, ...rest] = eventsOf(result).liquidations;
      expect(rest).toEqual([]);
      const cap = 90 / (1040 * 0.08);
      expect(event).toMatchObject({ step: 3, kind: 'absorb', reason: 'arrival', permittedBelow: 1040 });
      expect(event?.notional).toBeCloseTo(cap * 1040, 3);
      expect(event?.notional).toBeLessThanOrEqual((event?.limitNotional ?? 0) * (1 + 1e-9));
      const { book } = result.state;
      const remaining = book.positionSize[0] ?? 0;
      const equity = (book.collateral[0] ?? 0) + remaining * (1040 - 1045);
      expect(equity).toBeCloseTo(0.1 * remaining * 1040, 3); // exactly back at initial margin, not beyond
    });

    it('absorbs nothing when the account is back above initial margin at landing; the margin stays with the backstop', () => {
      // At $1,100: E = 1,550 >= IM = 1,100.
      const result = run(1100);
      expect(eventsOf(result).liquidations).toEqual([]);
      const { vault } = result.state;
      expect(vault.inventory[0]).toBe(0);
      expect(vault.reserve[0]).toBeCloseTo(363.636364, 6);
      expect(vault.reserve[0]! + vault.reserve[1]!).toBeCloseTo(10_000, 6);
    });
  });

  it('never has the home chain vault take over at once: it is not a source, and below maintenance the home action is a partial close', () => {
    // E = 1,000 + 10 (1,000 - 1,060) = 400 < MM = 500, and only alpha (the home chain) has a
    // vault. The old simulator's instant home takeover is gone: neither Vault.sol nor the node can do it.
    const recorder = recordingDecide();
    const scenario = tinyScenario((input) => {
      input.impact.arbitrageHalfLifeSeconds = 1e-6;
      const alpha = input.chains[0];
      if (alpha) alpha.vaultReserveUsd = 10_000;
    });
    const run = runAccounts({ scenario, accounts: [{ home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1060 }] }], prices: [1000, 1000, 1000, 1000], strategy: 'relayer', decide: recorder.decide });
    const [first] = recorder.snapshots;
    expect(first?.sources).toEqual([{ kind: 'liquidity', chainId: 1, key: 'beta', capacity: 0n, routes: [{ transport: 'layerzero', fixedCostUsd: 0.2 + 0.1 + 1, latencySeconds: 120 }] }]);
    const events = eventsOf(run);
    expect(events.liquidations.length).toBeGreaterThan(0);
    expect(events.liquidations.every((event) => event.kind === 'close' && event.reason === 'home')).toBe(true);
    expect(run.state.vault.reserve[0]).toBe(10_000);
    expect(run.metrics.notionalAbsorbedUsd).toBe(0);
  });

  it('without any source, liquidates at home only the share of one market that restores maintenance, under the engine cap', () => {
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
    const [event] = events.liquidations;
    expect(event).toMatchObject({ step: 1, kind: 'close', reason: 'home', permittedBelow: 500 });
    expect(event?.fraction).toBeCloseTo(share, 7);
    // The closed loop asks the core again in the same step; whatever it adds is a rounding unit,
    // and every close stays within the engine's cap.
    expect(events.liquidations.every((e) => e.step === 1 && e.notional <= (e.limitNotional ?? 0) * (1 + 1e-9))).toBe(true);
    const closed = events.liquidations.reduce((sum, e) => sum + e.notional, 0);
    expect(closed).toBeCloseTo(share * 10_000, 2);
    // The rest of the required amount (target 750) has no source: it stays uncovered.
    expect(events.plans.some((plan) => plan.kind === 'none' && plan.uncovered > 0)).toBe(true);
    const size = run.state.book.positionSize[0] ?? 0;
    const equity = (run.state.book.collateral[0] ?? 0) + size * (1000 - 1060);
    expect(size).toBeCloseTo(10 * (1 - share), 6);
    expect(equity).toBeCloseTo(500 * (1 - share), 4); // back at maintenance, not beyond
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
