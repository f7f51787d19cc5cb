import { describe, expect, it } from 'vitest';
import { decide, type PolicySnapshot } from '../../relayer/policy/index.js';
import { eventsOf, runAccounts, tinyScenario } from './fixtures.js';

// What the relayer strategy hands the decision core: the simulated world's side of the snapshot.
describe('the simulated snapshot', () => {
  // At $955: E = 1,000 - 450 = 550, MM = 477.5, IM = 955, m_eff (1 + target) = 7.5%: target
  // 716.25, required 166.25. Surplus 1,000 on beta (opted in); beta's vault holds 5,000.
  const snapshots: PolicySnapshot[] = [];
  const run = runAccounts({
    scenario: tinyScenario((input) => {
      const beta = input.chains[1];
      if (beta) beta.vaultReserveUsd = 5000;
    }),
    accounts: [{ home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1000 }], remote: [{ chain: 1, amount: 1000 }] }],
    prices: [1000, 955, 955, 955],
    strategy: 'relayer',
    decide: (snapshot) => {
      snapshots.push(snapshot);
      return decide(snapshot);
    },
  });

  it("states the risk module's assessment, the position with its terms and pool, the sources and the terms, in base units", () => {
    const [first] = snapshots;
    expect(first).toMatchObject({
      account: '#0',
      chainId: 0,
      chainKey: 'alpha',
      assessment: { atRisk: true, equity: 550_000_000n, maintenance: 477_500_000n, initial: 955_000_000n, required: 166_250_000n },
      inFlight: [],
      avoid: [],
      terms: { riskPerSecondPerUsd: 0.0001, minAction: 1_000_000n, liquidityRate: 0, homeGasUsd: 0.1, homeLatencySeconds: 60 },
    });
    // Issue 14's terms: the risk module's z (3), the relayer's default budgets (2% a home close, 1% a
    // step of unwinding), a step between two trades into a pool, the scenario's arbitrage half-life.
    expect(first?.terms).toMatchObject({ z: 3, localImpactBudget: 0.02, unwindImpactBudget: 0.01, blockSeconds: 60, arbitrageHalfLifeSeconds: 60 });
    const [position, ...others] = first?.positions ?? [];
    expect(others).toEqual([]);
    expect(position).toMatchObject({ marketId: 'ETH-USD', notional: 9_550_000_000n, long: true, maintenanceFraction: 0.05, initialFraction: 0.1, penalty: 0.02, pool: { fee: 0 } });
    expect(position?.targetFraction).toBeCloseTo(0.075, 12);
    // The pool at $955 with k = 1e9: a USD reserve of sqrt(1e9 * 955).
    expect(Number(position?.pool.quoteReserve) / 1e6).toBeCloseTo(Math.sqrt(1e9 * 955), 5);
    // ...and its base reserve sqrt(k / P): quote over base is the pool's price, here the oracle's.
    expect(position?.pool.baseReserve).toBeCloseTo(Math.sqrt(1e9 / 955), 9);
    expect(position?.oraclePrice).toBe(955);
    // The backstop holds nothing; sigma is the module's EWMA: its prior (1e-4 a year) updated by the
    // round from 1,000 to 955 over 60 s, lambda 0.94: s2 = 0.94 s2 + 0.06 ln(0.955)^2 / 60.
    expect(position?.backstopNotional).toBe(0n);
    const prior = 1e-8 / (365 * 24 * 3600);
    expect(position?.sigma).toBeCloseTo(Math.sqrt(0.94 * prior + (0.06 * Math.log(0.955) ** 2) / 60), 12);
    // Routes: gas on beta and on alpha plus the message fee; LayerZero's 120 s is two whole steps.
    const routes = [{ transport: 'layerzero', fixedCostUsd: 0.2 + 0.1 + 1, latencySeconds: 120 }];
    expect(first?.sources).toEqual([
      { kind: 'collateral', chainId: 1, key: 'beta', capacity: 1_000_000_000n, routes },
      { kind: 'liquidity', chainId: 1, key: 'beta', capacity: 5_000_000_000n, routes },
    ]);
  });

  it('reports what is in flight to the account, with what it relieves and the seconds until it lands', () => {
    expect(eventsOf(run).transfers[0]).toMatchObject({ step: 1, kind: 'send', amount: 166.25 });
    const second = snapshots[1];
    expect(second?.inFlight).toEqual([{ kind: 'collateral', relief: 166_250_000n, etaSeconds: 60 }]);
    expect(second?.sources[0]?.capacity).toBe(833_750_000n); // the surplus left beta when the leg was sent
  });

  it("hands the core the risk module's m_eff (1 + target) even when it goes past 1", () => {
    // A 10,000% volatility prior over an hour's action time: m_eff = 3 sigma sqrt(T) is far above 1.
    const seen: PolicySnapshot[] = [];
    const wild = runAccounts({
      scenario: tinyScenario((input) => {
        const market = input.markets[0];
        if (market) market.annualVolatility = 100;
        input.strategies = { relayer: { actionSeconds: 3600, volatilityFloor: 1e-4 } };
      }),
      accounts: [{ home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1000 }] }],
      prices: [1000, 1000, 1000, 1000],
      strategy: 'relayer',
      decide: (snapshot) => {
        seen.push(snapshot);
        return decide(snapshot);
      },
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]?.positions[0]?.targetFraction).toBeGreaterThan(1);
    // The required amount is still the module's: more than the whole notional.
    expect(seen[0]?.assessment.required).toBeGreaterThan(10_000_000_000n);
    expect(wild.metrics.liquidations).toBe(0); // above maintenance and no source: nothing the engine allows
  });
});
