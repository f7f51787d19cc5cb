/**
 * The decision core on hand-computed accounts. Unless a test says otherwise: one long of 10,000
 * USD notional, m = 0.05, im = 0.1, penalty 0.02, target fraction 0.06 (so MM = 500, IM = 1,000,
 * target requirement 600 USD), a pool of 10,000,000 USD quote reserve with no fee, the home
 * action mined in 12 s.
 */
import { describe, expect, it } from 'vitest';
import { decide, type PolicyDecision, type PolicyLeg, type PolicySnapshot, type PolicySource } from '../../relayer/policy/index.js';
import { ORACLE_PRICE, oneLong, poolAt, usd } from './generators.js';

const legsOf = (decision: PolicyDecision): readonly PolicyLeg[] => (decision.kind === 'none' ? [] : decision.legs);
const usdOf = (units: bigint): number => Number(units) / 1e6;

/**
 * The engine's closed form (chains/contracts/src/MarginEngine.sol `_liquidationCap`), in USD of
 * notional: with a = m - penalty, deficit D and pool quote reserve Y, the smallest close x with
 * a x - slippage(x) = D is the smaller root of
 *   long:  (1 - a) x^2 - (a Y - D) x + D Y = 0
 *   short: (1 + a) x^2 - (a Y + D) x + D Y = 0
 * written, as the contract does, as 2 D Y / (b + sqrt(b^2 - 4 q D Y)).
 */
function engineLiquidationCap(params: { deficit: number; pool: number; a: number; long: boolean }): number {
  const { deficit: D, pool: Y, a, long } = params;
  const b = long ? a * Y - D : a * Y + D;
  const q = long ? 1 - a : 1 + a;
  return (2 * D * Y) / (b + Math.sqrt(b * b - 4 * q * D * Y));
}

const collateral = (chainId: number, capacityUsd: number, routes: PolicySource['routes']): PolicySource => ({ kind: 'collateral', chainId, key: `chain${chainId}`, capacity: usd(capacityUsd), routes });
const vault = (chainId: number, capacityUsd: number): PolicySource => ({ kind: 'liquidity', chainId, key: `chain${chainId}`, capacity: usd(capacityUsd), routes: [{ transport: 'layerzero', fixedCostUsd: 1, latencySeconds: 30 }] });
const lz = (fixedCostUsd: number, latencySeconds = 30) => ({ transport: 'layerzero' as const, fixedCostUsd, latencySeconds });
const wh = (fixedCostUsd: number, latencySeconds = 30) => ({ transport: 'wormhole' as const, fixedCostUsd, latencySeconds });

describe('the home action', () => {
  // E = 400: 100 USD below maintenance, required 600 - 400 = 200.
  it.each([true, false])('closes, below maintenance with nothing landing in time, the engine closed-form size (long: %s)', (long) => {
    const snapshot = oneLong({ equityUsd: 400, position: { long } });
    const decision = decide(snapshot);
    expect(decision.kind).toBe('home');
    if (decision.kind !== 'home') return;
    expect(decision.need).toBe(usd(200));
    expect(decision.legs).toHaveLength(1);
    const leg = decision.legs[0];
    expect(leg).toMatchObject({ kind: 'local', marketId: 'ETH', sourceChainId: 1, latencySeconds: 12 });
    // a = 0.03, D = 100 plus the engine's 4-unit rounding margin, Y = 10,000,000: x = 3371.2040 (long), 3371.2301 (short).
    const x = engineLiquidationCap({ deficit: 100.000004, pool: 10_000_000, a: 0.03, long });
    expect(x).toBeCloseTo(long ? 3371.204 : 3371.2301, 3);
    expect(usdOf(leg?.amount ?? 0n)).toBeCloseTo(x, 5);
    // Never more than the engine allows: its cap adds HEALTH_ROUNDING_MARGIN (4 base units) to D.
    expect(Number(leg?.amount)).toBeLessThanOrEqual(Math.ceil(engineLiquidationCap({ deficit: 100.000004, pool: 10_000_000, a: 0.03, long }) * 1e6));
    // Closing it restores maintenance: E - pen x - slippage >= MM - m x.
    const closed = usdOf(leg?.amount ?? 0n);
    const slippage = long ? closed ** 2 / (10_000_000 + closed) : closed ** 2 / (10_000_000 - closed);
    expect(400 - 0.02 * closed - slippage).toBeGreaterThanOrEqual(500 - 0.05 * closed - 1e-6);
    // Relief toward the target: D + (target - m) x = 100 + 0.01 x = 133.712 USD.
    expect(usdOf(leg?.relief ?? 0n)).toBeCloseTo(100 + 0.01 * x, 5);
  });

  it('is not taken when enough relief lands within the home latency', () => {
    const decision = decide(oneLong({ equityUsd: 400, inFlight: [{ kind: 'collateral', relief: usd(100), etaSeconds: 5 }] }));
    expect(decision.kind).not.toBe('home');
    expect(decision.need).toBe(usd(100));
  });

  it('is taken when the relief in flight lands after the home latency, sized for what lands before it', () => {
    const late = decide(oneLong({ equityUsd: 400, inFlight: [{ kind: 'collateral', relief: usd(100), etaSeconds: 60 }] }));
    expect(late.kind).toBe('home');
    expect(usdOf(legsOf(late)[0]?.amount ?? 0n)).toBeCloseTo(engineLiquidationCap({ deficit: 100.000004, pool: 10_000_000, a: 0.03, long: true }), 5);
    // 50 of the 100 USD deficit lands within 12 s: the close covers the other 50.
    const half = decide(oneLong({ equityUsd: 400, inFlight: [{ kind: 'collateral', relief: usd(50), etaSeconds: 12 }, { kind: 'collateral', relief: usd(80), etaSeconds: 13 }] }));
    expect(half.kind).toBe('home');
    expect(usdOf(legsOf(half)[0]?.amount ?? 0n)).toBeCloseTo(engineLiquidationCap({ deficit: 50.000004, pool: 10_000_000, a: 0.03, long: true }), 5);
    expect(half.need).toBe(usd(200 - 130));
  });

  // Found as a bug and fixed: no partial close restores maintenance here (the best, about 1,500 USD,
  // gains about 23 USD of a 100 USD deficit), so the engine's cap is the whole position, and the
  // core closes all of it: penalty 200 + slippage 909 USD against 500 USD of requirement freed,
  // E - MM goes from -100 to -709 USD. For a thin short the same rule buys back all but 1e-9 of
  // the pool: slippage about 5e12 USD. Expected: no home close that leaves E - MM lower than it was.
  it.each([
    { long: true, pool: 100_000 },
    { long: false, pool: 5_000 },
  ])('never deepens the maintenance shortfall when no partial close restores it (%o)', ({ long, pool }) => {
    const snapshot = oneLong({ equityUsd: 400, position: { long, pool: poolAt({ quoteUsd: pool, oraclePrice: ORACLE_PRICE }) } });
    const decision = decide(snapshot);
    for (const leg of legsOf(decision)) {
      if (leg.kind !== 'local') continue;
      const x = usdOf(leg.amount);
      const slippage = long ? x ** 2 / (pool + x) : x < pool ? x ** 2 / (pool - x) : Number.POSITIVE_INFINITY;
      const gain = 0.03 * x - slippage;
      expect(gain, `${decision.kind} closes ${x} USD of a ${long ? 'long' : 'short'} into a ${pool} USD pool`).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('the plan', () => {
  // E = 550: above maintenance (no local leg), below the target: required 50 USD.
  it('takes the cheaper source, and the other when its fixed cost rises', () => {
    const cheapFirst = decide(oneLong({ equityUsd: 550, sources: [collateral(2, 1_000, [lz(1)]), collateral(3, 1_000, [lz(3)])] }));
    expect(cheapFirst.kind).toBe('plan');
    expect(legsOf(cheapFirst)).toEqual([{ kind: 'collateral', optionId: 'collateral:chain2:layerzero', sourceChainId: 2, transport: 'layerzero', amount: usd(50), relief: usd(50), latencySeconds: 30 }]);
    const flipped = decide(oneLong({ equityUsd: 550, sources: [collateral(2, 1_000, [lz(5)]), collateral(3, 1_000, [lz(3)])] }));
    expect(legsOf(flipped).map((leg) => [leg.sourceChainId, leg.amount])).toEqual([[3, usd(50)]]);
  });

  it('splits over two sources when neither covers the need alone, and reports what none covers', () => {
    // Two fixed costs (1 + 3) beat neither only when one source cannot cover the 50 alone.
    const one = decide(oneLong({ equityUsd: 550, sources: [collateral(2, 30, [lz(1)]), collateral(3, 1_000, [lz(3)])] }));
    expect(legsOf(one).map((leg) => [leg.sourceChainId, leg.amount])).toEqual([[3, usd(50)]]);
    const split = decide(oneLong({ equityUsd: 550, sources: [collateral(2, 30, [lz(1)]), collateral(3, 25, [lz(3)])] }));
    expect(split).toMatchObject({ kind: 'plan', uncovered: 0n });
    const amounts = new Map(legsOf(split).map((leg) => [leg.sourceChainId, leg.amount]));
    expect([...amounts.keys()].sort()).toEqual([2, 3]);
    // Each leg is rounded down to a base unit (never ask a source for more than it holds).
    const total = (amounts.get(2) ?? 0n) + (amounts.get(3) ?? 0n);
    expect(total).toBeLessThanOrEqual(usd(50));
    expect(total).toBeGreaterThanOrEqual(usd(50) - 2n);
    expect(amounts.get(2)).toBeLessThanOrEqual(usd(30));
    expect(amounts.get(3)).toBeLessThanOrEqual(usd(25));
    const short = decide(oneLong({ equityUsd: 550, sources: [collateral(2, 30, [lz(1)])] }));
    expect(short).toMatchObject({ kind: 'plan', need: usd(50), uncovered: usd(20) });
    expect(legsOf(short).map((leg) => leg.amount)).toEqual([usd(30)]);
  });

  it('takes each source over its cheapest transport, counting the price of waiting', () => {
    // Need 50 USD. LayerZero: 1 USD, 600 s; Wormhole: 3 USD, 10 s.
    const routes = [lz(1, 600), wh(3, 10)];
    const patient = decide(oneLong({ equityUsd: 550, sources: [collateral(2, 1_000, routes)] }));
    expect(legsOf(patient).map((leg) => 'transport' in leg && leg.transport)).toEqual(['layerzero']);
    // 1e-4 USD per USD-second of 50 USD: LayerZero 1 + 0.005 * 600 = 4 against Wormhole 3 + 0.05.
    const hurried = decide(oneLong({ equityUsd: 550, sources: [collateral(2, 1_000, routes)], terms: { ...oneLong({ equityUsd: 550 }).terms, riskPerSecondPerUsd: 1e-4 } }));
    expect(legsOf(hurried).map((leg) => 'transport' in leg && leg.transport)).toEqual(['wormhole']);
    expect(legsOf(hurried)[0]?.latencySeconds).toBe(10);
    // A route the episode saw fail is planned around, even when it is the cheapest.
    const avoided = decide(oneLong({ equityUsd: 550, sources: [collateral(2, 1_000, routes)], avoid: [{ chainId: 2, kind: 'collateral', transport: 'layerzero' }] }));
    expect(legsOf(avoided).map((leg) => 'transport' in leg && leg.transport)).toEqual(['wormhole']);
  });

  it('plans only required minus what is already in flight', () => {
    const sources = [collateral(2, 1_000, [lz(1)])];
    expect(legsOf(decide(oneLong({ equityUsd: 550, sources }))).map((leg) => leg.amount)).toEqual([usd(50)]);
    const topped = decide(oneLong({ equityUsd: 550, sources, inFlight: [{ kind: 'collateral', relief: usd(20), etaSeconds: 30 }] }));
    expect(topped).toMatchObject({ kind: 'plan', need: usd(30), uncovered: 0n });
    expect(legsOf(topped).map((leg) => [leg.amount, leg.relief])).toEqual([[usd(30), usd(30)]]);
  });

  it('decides none when the need is below the minimum action', () => {
    const terms = { ...oneLong({ equityUsd: 550 }).terms, minAction: usd(10) };
    const sources = [collateral(2, 1_000, [lz(1)])];
    // 50 required, 45 in flight: 5 USD left, not worth a transaction.
    expect(decide(oneLong({ equityUsd: 550, sources, terms, inFlight: [{ kind: 'collateral', relief: usd(45), etaSeconds: 30 }] }))).toEqual({ kind: 'none', reason: 'below the smallest action', need: usd(5), uncovered: 0n });
    // 5 USD required and nothing in flight: still nothing.
    expect(decide(oneLong({ equityUsd: 595, sources, terms }))).toMatchObject({ kind: 'none', reason: 'below the smallest action', need: usd(5), uncovered: 0n });
    // At exactly the minimum it acts.
    expect(decide(oneLong({ equityUsd: 590, sources, terms }))).toMatchObject({ kind: 'plan', need: usd(10) });
  });

  it('decides none for an account not at risk, whatever its numbers', () => {
    const snapshot = oneLong({ equityUsd: 400, sources: [collateral(2, 1_000, [lz(1)])] });
    expect(decide({ ...snapshot, assessment: { ...snapshot.assessment, atRisk: false } })).toMatchObject({ kind: 'none', reason: 'not at risk' });
  });
});

describe('a liquidity leg', () => {
  it('gives the backstop the margin of the notional that relieves the need', () => {
    // Need 50; a takeover relieves target - penalty = 0.04 per USD: 1,250 USD of notional,
    // 125 USD of margin at im = 0.1; the engine's cap (1000 - 550) / (0.1 - 0.02) = 5,625 USD.
    const decision = decide(oneLong({ equityUsd: 550, sources: [vault(2, 1_000)] }));
    const legs = legsOf(decision);
    expect(legs).toHaveLength(1);
    expect(legs[0]).toMatchObject({ kind: 'liquidity', optionId: 'liquidity:chain2:layerzero', sourceChainId: 2, transport: 'layerzero', relief: usd(50), latencySeconds: 30, marketId: 'ETH' });
    const leg = legs[0];
    if (leg?.kind !== 'liquidity') return;
    // Sizes the engine must meet are rounded up: 0.06 - 0.02 is 0.03999... in floats, one base unit over.
    expect(leg.absorbNotional - usd(1_250)).toBeGreaterThanOrEqual(0n);
    expect(leg.absorbNotional - usd(1_250)).toBeLessThanOrEqual(1n);
    expect(leg.amount - usd(125)).toBeGreaterThanOrEqual(0n);
    expect(leg.amount - usd(125)).toBeLessThanOrEqual(1n);
  });

  it('is not planned at or above initial margin, where the engine refuses to absorb', () => {
    // Target fraction 0.15 > im: E = 1,100 is above IM = 1,000 but 400 short of the target.
    const decision = decide(oneLong({ equityUsd: 1_100, position: { targetFraction: 0.15 }, sources: [vault(2, 1_000)] }));
    expect(decision).toMatchObject({ kind: 'none', reason: 'no source can cover it', need: usd(400), uncovered: usd(400) });
  });

  // Found as a bug, now fixed: target fraction 0.15 > im, E = 550: required 1,500 - 550 = 950 USD. The
  // engine lets the backstop absorb at most (1,000 - 550) / (0.1 - 0.02) = 5,625 USD of notional,
  // which relieves 5,625 * 0.13 = 731.25 USD. Each vault's option is capped at that on its own,
  // so the planner takes both: 950 / 0.13 = 7,307.7 USD of absorptions planned on one position.
  // Whichever lands second absorbs at most what the first left (nothing, if the first took the
  // cap): the margin it sent funds nothing and the relief counted for it never happens.
  // Expected: the takeovers of one position together stay within its cap (and within it).
  it('takeovers from two vaults together stay within the engine cap of the one position they absorb', () => {
    const snapshot: PolicySnapshot = oneLong({ equityUsd: 550, position: { targetFraction: 0.15 }, sources: [vault(2, 1_000), vault(3, 1_000)] });
    expect(snapshot.assessment.required).toBe(usd(950));
    const decision = decide(snapshot);
    const absorbed = legsOf(decision).reduce((sum, leg) => sum + (leg.kind === 'liquidity' ? leg.absorbNotional : 0n), 0n);
    expect(absorbed).toBeGreaterThan(0n);
    expect(absorbed).toBeLessThanOrEqual(usd(5_625) + 1n);
  });
});

// Issue 14, item 4 and the README's "sliver": the close is sized at the pool's real price, and paced
// by the pool. The account of the home-action tests: E = 400, MM = 500, a deficit of 100 USD.
describe('a home close at the pool as it is', () => {
  /**
   * The smallest long close x restoring a deficit D into a pool off the oracle (quote reserve Y, base
   * reserve worth Yo at the oracle, no fee): with a = m - penalty and G = Yo - Y, the close frees
   * a x - x (G + x) / (Yo + x) of E - MM, so x is the smaller root of
   *   (1 - a) x^2 - (a Yo - G - D) x + D Yo = 0,  x = 2 D Yo / (B + sqrt(B^2 - 4 (1 - a) D Yo)), B = a Yo - G - D.
   * (G = 0 is the engine's closed form above.)
   */
  const restoringClose = (params: { deficit: number; y: number; yo: number; a: number }): number => {
    const { deficit: D, y, yo, a } = params;
    const b = a * yo - (yo - y) - D;
    return (2 * D * yo) / (b + Math.sqrt(b * b - 4 * (1 - a) * D * yo));
  };

  it('is sized with the pool 1% under the oracle, as the engine (and the simulated pool) fill it', () => {
    // The pool's 10,000,000 USD of quote at 990: 10,101.01 units, worth Yo = 10,101,010.1 at the oracle.
    const decision = decide(oneLong({ equityUsd: 400, position: { pool: poolAt({ quoteUsd: 10_000_000, oraclePrice: ORACLE_PRICE, poolToOracle: 0.99 }) } }));
    expect(decision.kind).toBe('home');
    const x = usdOf(legsOf(decision)[0]?.amount ?? 0n);
    // B = 303,030.3 - 101,010.1 - 100 = 201,920.2, x = 5,128.8 USD: half as much again as the 3,371.2
    // the pool at the oracle would need, which left the account a sliver short before.
    const expected = restoringClose({ deficit: 100.000004, y: 10_000_000, yo: 10_000_000 / 0.99, a: 0.03 });
    expect(expected).toBeCloseTo(5128.8, 0);
    expect(x).toBeCloseTo(expected, 4);
    // Closed into that pool it restores maintenance: 400 - 0.02 x - (x - Y x / (Yo + x)) >= 500 - 0.05 x.
    const proceeds = (10_000_000 * x) / (10_000_000 / 0.99 + x);
    expect(400 - 0.02 * x - (x - proceeds)).toBeGreaterThanOrEqual(500 - 0.05 * x - 1e-6);
  });

  // A 0.05% budget: from a pool at the oracle a long may sell until the price is 0.9995 of it,
  // Yo (1 / sqrt(0.9995) - 1) = 10,000,000 x 2.50094e-4 = 2,500.94 USD, under the 3,371.2 that restores maintenance.
  const paced = (poolToOracle: number, extra: Partial<PolicySnapshot> = {}) =>
    decide(
      oneLong({
        equityUsd: 400,
        position: { pool: poolAt({ quoteUsd: 10_000_000, oraclePrice: ORACLE_PRICE, poolToOracle }) },
        terms: { ...oneLong({ equityUsd: 400 }).terms, localImpactBudget: 0.0005 },
        ...extra,
      }),
    );

  it('closes only what keeps the pool within its impact budget, and says so', () => {
    const decision = paced(1);
    expect(decision.kind).toBe('home');
    expect(usdOf(legsOf(decision)[0]?.amount ?? 0n)).toBeCloseTo(10_000_000 * (1 / Math.sqrt(0.9995) - 1), 3);
    expect(decision.kind === 'home' ? decision.reason : '').toContain("the pool's impact budget lets 2500.94 of the 3371.20 USD close go now");
  });

  it('takes the room left once arbitrage gave back at least half of it, and waits for the pool below that', () => {
    // Pool at 0.9998 of the oracle (Y = 1e7, so Yo = 1e7 / 0.9998): room Yo (sqrt(0.9998 / 0.9995) - 1) =
    // 1,500.5 USD, more than half of a restored pool's 2,500.9 (restored: both reserves worth sqrt(Y Yo)).
    const yo = 10_000_000 / 0.9998;
    const room = yo * (Math.sqrt(0.9998 / 0.9995) - 1);
    const restored = Math.sqrt(10_000_000 * yo) * (1 / Math.sqrt(0.9995) - 1);
    expect(room).toBeGreaterThan(restored / 2);
    const some = paced(0.9998);
    expect(some.kind).toBe('home');
    expect(usdOf(legsOf(some)[0]?.amount ?? 0n)).toBeCloseTo(room, 3);
    // At 0.9997: room 1,000.4 USD, under half: no sliver now; nothing else can act, so it waits.
    expect(paced(0.9997)).toEqual({ kind: 'none', reason: 'waiting for the pool to recover', need: usd(200), uncovered: 0n });
    // With the account's surplus elsewhere, the plan does not wait: it brings that.
    const planned = paced(0.9997, { sources: [collateral(2, 1_000, [lz(1)])] });
    expect(planned).toMatchObject({ kind: 'plan', need: usd(200) });
    expect(legsOf(planned).map((leg) => leg.kind)).toEqual(['collateral']);
    // Past the budget altogether (0.999): no room at all.
    expect(paced(0.999).kind).toBe('none');
  });
});

// Issue 14, item 1: a takeover's cost carries the risk of holding what it absorbs until unwound.
// E = 550 (above MM 500, below IM 1,000): need 50, a takeover of 50 / (0.06 - 0.02) = 1,250 USD.
describe('a takeover priced with its risk', () => {
  /**
   * sigma 1e-4 per square root of a second, z 3; the backstop unwinds through the 10,000,000 USD pool
   * at 1% a block (12 s), arbitrage restoring it by the next: 1e7 (1 / sqrt(0.99) - 1) = 50,378.4 USD
   * a block, 4,198.2 USD a second. The price of waiting 0.001 per USD and second, so that leaving it
   * to a local reduction (the wait for a 3-sigma move of 10,000 to eat the 50 above maintenance,
   * (50 / 3)^2 = 277.8 s, costs 0.001 x 50 x 289.8 = 14.5) is dearer than the takeover.
   */
  const priced = (backstopUsd: number, riskPerSecondPerUsd = 0.001) =>
    decide(
      oneLong({
        equityUsd: 550,
        position: { sigma: 1e-4, backstopNotional: usd(backstopUsd) },
        sources: [vault(2, 1_000)],
        terms: { ...oneLong({ equityUsd: 550 }).terms, z: 3, riskPerSecondPerUsd },
      }),
    );
  const rate = (10_000_000 * (1 / Math.sqrt(0.99) - 1)) / 12;
  // Penalty 0.02 / 0.04 x 50 = 25, the route's 1 USD, its 30 s wait 0.001 x 50 x 30 = 1.5.
  const withoutRisk = 25 + 1 + 1.5;

  it('adds z sigma sqrt(T) x to the planned cost, T the seconds to unwind it', () => {
    const decision = priced(0);
    expect(legsOf(decision).map((leg) => leg.kind)).toEqual(['liquidity']);
    // T = 1,250 / 4,198.2 = 0.298 s: 3 x 1e-4 x sqrt(0.298) x 1,250 = 0.205 USD.
    const risk = 3 * 1e-4 * Math.sqrt(1_250 / rate) * 1_250;
    expect(risk).toBeCloseTo(0.205, 3);
    expect(decision.kind === 'plan' ? decision.plan.totalCost : 0).toBeCloseTo(withoutRisk + risk, 6);
  });

  it('queues it behind what the backstop holds on that side, and nets it against the other side', () => {
    // 1,000,000 USD long held: T = 1,001,250 / 4,198.2 = 238.5 s, risk 3e-4 x 15.44 x 1,250 = 5.79 USD.
    const behind = priced(1_000_000);
    const risk = 3 * 1e-4 * Math.sqrt(1_001_250 / rate) * 1_250;
    expect(risk).toBeCloseTo(5.79, 2);
    expect(behind.kind === 'plan' ? behind.plan.totalCost : 0).toBeCloseTo(withoutRisk + risk, 6);
    // Short 1,000,000: the long it absorbs only shrinks that book, nothing to unwind, no risk.
    const netted = priced(-1_000_000);
    expect(netted.kind === 'plan' ? netted.plan.totalCost : 0).toBeCloseTo(withoutRisk, 9);
  });

  it('is left to a local reduction where that is cheaper in expectation', () => {
    // No price of waiting: the local reduction once E falls to MM costs 0.5 of gas + 0.02 / 0.04 x 50 = 25
    // (+ slippage 50^2 / (1e7 x 0.04^2) = 0.16), against the takeover's 25 + 1 + 0.2.
    expect(priced(0, 0)).toEqual({ kind: 'none', reason: 'left to a local reduction', need: usd(50), uncovered: 0n });
    // Deferred or not, never both a takeover and nothing: the quiet market (sigma 0) cannot fall to maintenance, so no deferral.
    const quiet = decide(oneLong({ equityUsd: 550, sources: [vault(2, 1_000)] }));
    expect(legsOf(quiet).map((leg) => leg.kind)).toEqual(['liquidity']);
  });
});
