/**
 * Property tests of the decision core over seeded random snapshots (1,800 in all): whatever the
 * account and its world, a decision never plans more than required minus in flight, never takes
 * more of a source than it holds unreserved, acts at home or by takeover only where the engine
 * allows it, never uses an avoided route, and is a function of the snapshot alone.
 * A failure names its seed and index: `randomSnapshot(new SeededRandom(seed), ...)` replays it.
 */
import { describe, expect, it } from 'vitest';
import { decide, type PolicyDecision, type PolicyLeg, type PolicySnapshot } from '../../relayer/policy/index.js';
import { SeededRandom } from '../../relayer/seeded-random.js';
import { randomSnapshot } from './generators.js';

const SEEDS = [101, 102, 103, 104, 105, 106];
const PER_SEED = 300;

interface Case {
  readonly label: string;
  readonly snapshot: PolicySnapshot;
  readonly decision: PolicyDecision;
}

/** Generated once per seed and shared by the properties (deciding is the cost, not checking). */
const casesBySeed = new Map<number, Case[]>();
function cases(seed: number): Case[] {
  let list = casesBySeed.get(seed);
  if (!list) {
    const random = new SeededRandom(seed);
    list = Array.from({ length: PER_SEED }, (_, i) => {
      const snapshot = randomSnapshot(random, `a${i}`);
      return { label: `seed ${seed} #${i}`, snapshot, decision: decide(snapshot) };
    });
    casesBySeed.set(seed, list);
  }
  return list;
}

const legsOf = (decision: PolicyDecision): readonly PolicyLeg[] => (decision.kind === 'none' ? [] : decision.legs);
const inFlightOf = (snapshot: PolicySnapshot): bigint => snapshot.inFlight.reduce((sum, leg) => sum + leg.relief, 0n);
const sum = (values: readonly bigint[]): bigint => values.reduce((total, value) => total + value, 0n);
const positionOf = (snapshot: PolicySnapshot, marketId: string) => {
  const position = snapshot.positions.find((p) => p.marketId === marketId);
  if (!position) throw new Error(`leg on unknown market ${marketId}`);
  return position;
};
type Position = PolicySnapshot['positions'][number];
/**
 * The position's pool as the engine (and the simulator's pool) trades it: b = x / P units of the
 * asset into reserves X (base) and Y (quote), fee taken from what comes in. Selling a long fetches
 * Y b (1 - fee) / (X + b (1 - fee)); buying back a short costs Y b / ((X - b) (1 - fee)).
 */
const poolOf = (position: Position) => ({ x: position.pool.baseReserve, y: Number(position.pool.quoteReserve) / 1e6, fee: position.pool.fee, price: position.oraclePrice });
/** What closing x USD (at the oracle) of the position costs the account against the oracle, penalty aside. */
const slippageUsd = (position: Position, usdAmount: number): number => {
  const { x, y, fee, price } = poolOf(position);
  const b = usdAmount / price;
  if (position.long) return usdAmount - (y * b * (1 - fee)) / (x + b * (1 - fee));
  return b < x ? (y * b) / ((x - b) * (1 - fee)) - usdAmount : Number.POSITIVE_INFINITY;
};
/** What closing x USD of the position into its pool does to E - MM: m x - pen x - slippage. */
const maintenanceGainUsd = (position: Position, x: number): number => (position.maintenanceFraction - position.penalty) * x - slippageUsd(position, x);
/** The pool's price over the oracle after closing x USD of the position into it: k / X'^2 over P. */
const poolToOracleAfter = (position: Position, usdAmount: number): number => {
  const { x, y, fee, price } = poolOf(position);
  const b = usdAmount / price;
  const base = position.long ? x + b * (1 - fee) : x - b;
  return (x * y) / (base * base) / price;
};
/** What the planner left to a later local reduction (its `:later` allocation), in base units. */
const laterOf = (decision: PolicyDecision): bigint =>
  decision.kind === 'plan' ? BigInt(Math.floor(decision.plan.allocations.filter((a) => a.id.endsWith(':later')).reduce((total, a) => total + a.amount, 0) * 1e6)) : 0n;
/** The engine's absorb cap (IM - E) / (im - pen) in base units of notional, unrounded. */
const absorbCapUnits = (snapshot: PolicySnapshot, marketId: string): number => {
  const position = positionOf(snapshot, marketId);
  const { initial, equity } = snapshot.assessment;
  return Number(initial - equity) / (position.initialFraction - position.penalty);
};

describe('the decision core over random snapshots', () => {
  it('exercises every kind of decision and leg', () => {
    const all = SEEDS.flatMap(cases);
    const count = (test: (c: Case) => boolean) => all.filter(test).length;
    const withLeg = (kind: PolicyLeg['kind']) => count((c) => legsOf(c.decision).some((leg) => leg.kind === kind));
    expect(count((c) => c.decision.kind === 'home')).toBeGreaterThan(50);
    expect(count((c) => c.decision.kind === 'plan')).toBeGreaterThan(200);
    expect(count((c) => c.decision.kind === 'none' && c.decision.reason === 'not at risk')).toBeGreaterThan(50);
    expect(count((c) => c.decision.kind === 'none' && c.decision.reason === 'in flight covers it')).toBeGreaterThan(20);
    expect(withLeg('collateral')).toBeGreaterThan(100);
    expect(withLeg('liquidity')).toBeGreaterThan(50);
    expect(withLeg('local')).toBeGreaterThan(100);
    expect(count((c) => legsOf(c.decision).length >= 2)).toBeGreaterThan(30);
    expect(count((c) => c.decision.kind !== 'none' && c.decision.uncovered > 0n)).toBeGreaterThan(10);
  });

  it.each(SEEDS)('(a) the legs relieve at most required minus in flight (seed %i)', (seed) => {
    for (const { label, snapshot, decision } of cases(seed)) {
      const need = snapshot.assessment.required - inFlightOf(snapshot);
      expect(decision.need, label).toBe(need);
      const relief = sum(legsOf(decision).map((leg) => leg.relief));
      // A home action may be forced with in flight already covering the required amount: it then relieves 0.
      expect(relief, label).toBeLessThanOrEqual(need > 0n ? need : 0n);
      for (const leg of legsOf(decision)) expect(leg.relief, label).toBeGreaterThanOrEqual(0n);
      if (decision.kind === 'plan') {
        expect(need, label).toBeGreaterThanOrEqual(snapshot.terms.minAction);
        expect(decision.uncovered, label).toBeGreaterThanOrEqual(0n);
        expect(relief + decision.uncovered, label).toBeLessThanOrEqual(need);
        // What is not reported uncovered is covered, or left to a later local reduction, up to a
        // base unit of rounding down per leg (and one for the deferral).
        const later = laterOf(decision);
        expect(relief + decision.uncovered + later, label).toBeGreaterThanOrEqual(need - BigInt(decision.legs.length) - 1n);
      }
    }
  });

  it.each(SEEDS)('(b) no source gives more than its unreserved capacity, over all its legs (seed %i)', (seed) => {
    for (const { label, snapshot, decision } of cases(seed)) {
      const bySource = new Map<string, bigint>();
      for (const leg of legsOf(decision)) {
        expect(leg.amount, label).toBeGreaterThan(0n);
        if (leg.kind === 'local') continue;
        const source = snapshot.sources.find((s) => s.kind === leg.kind && s.chainId === leg.sourceChainId);
        expect(source, `${label}: ${leg.optionId} has no source`).toBeDefined();
        expect(leg.amount, `${label}: ${leg.optionId}`).toBeLessThanOrEqual(source?.capacity ?? 0n);
        const key = `${leg.kind}:${leg.sourceChainId}`;
        bySource.set(key, (bySource.get(key) ?? 0n) + leg.amount);
      }
      for (const [key, taken] of bySource) {
        const [kind, chainId] = key.split(':');
        const source = snapshot.sources.find((s) => s.kind === kind && s.chainId === Number(chainId));
        expect(taken, `${label}: ${key}`).toBeLessThanOrEqual(source?.capacity ?? 0n);
      }
    }
  });

  it.each(SEEDS)('(c) a local leg only below maintenance, never more than the position (seed %i)', (seed) => {
    for (const { label, snapshot, decision } of cases(seed)) {
      const { equity, maintenance } = snapshot.assessment;
      if (decision.kind === 'home') {
        expect(equity, label).toBeLessThan(maintenance);
        expect(decision.legs.map((leg) => leg.kind), label).toEqual(['local']);
      }
      for (const leg of legsOf(decision)) {
        if (leg.kind !== 'local') continue;
        expect(equity, label).toBeLessThan(maintenance);
        expect(leg.sourceChainId, label).toBe(snapshot.chainId);
        expect(leg.amount, label).toBeLessThanOrEqual(positionOf(snapshot, leg.marketId).notional);
      }
    }
  });

  it.each(SEEDS)('(d) a liquidity leg only below initial, absorbing at most the position and the engine cap (seed %i)', (seed) => {
    for (const { label, snapshot, decision } of cases(seed)) {
      const { equity, initial } = snapshot.assessment;
      for (const leg of legsOf(decision)) {
        if (leg.kind !== 'liquidity') continue;
        expect(equity, label).toBeLessThan(initial);
        expect(leg.absorbNotional, label).toBeGreaterThan(0n);
        expect(leg.absorbNotional, label).toBeLessThanOrEqual(positionOf(snapshot, leg.marketId).notional);
        // The engine rounds its cap up (ceilDiv of the deficit plus HEALTH_ROUNDING_MARGIN): a
        // base unit of ceiling is within it.
        const cap = absorbCapUnits(snapshot, leg.marketId);
        expect(Number(leg.absorbNotional), `${label}: absorbs ${leg.absorbNotional} over the engine cap ${cap}`).toBeLessThanOrEqual(Math.ceil(cap * (1 + 1e-12)));
      }
    }
  });

  // Found as a bug, now fixed: every vault's takeover targets the same (largest) position and each
  // liquidity option is capped at the whole absorb cap on its own, so the planner splits a need
  // over two vaults whose absorptions add up past the cap (and past the position). After the first
  // lands the engine lets the next absorb only what is left: its margin funds nothing and the
  // relief it was counted for never happens. See also the hand-computed case in decide.test.ts.
  it('(d) liquidity legs on one position together absorb at most the position and the engine cap', () => {
    const violations: string[] = [];
    for (const { label, snapshot, decision } of SEEDS.flatMap(cases)) {
      const byMarket = new Map<string, bigint[]>();
      for (const leg of legsOf(decision)) if (leg.kind === 'liquidity') byMarket.set(leg.marketId, [...(byMarket.get(leg.marketId) ?? []), leg.absorbNotional]);
      for (const [marketId, absorptions] of byMarket) {
        const position = positionOf(snapshot, marketId);
        const cap = Math.ceil(absorbCapUnits(snapshot, marketId) * (1 + 1e-12));
        const absorbed = sum(absorptions);
        if (absorbed > position.notional || Number(absorbed) > cap) violations.push(`${label}: ${absorptions.join(' + ')} = ${absorbed} of ${marketId} (notional ${position.notional}, engine cap ${cap})`);
      }
    }
    expect(violations.slice(0, 5), `${violations.length} decisions over-absorb`).toEqual([]);
  });

  // Found as a bug, now fixed: when no partial close restores maintenance, the engine's cap is the whole
  // position and the core's home action closes all of it, even where penalty, fee and slippage
  // make that close cost more equity than the requirement it frees: the node itself deepens the
  // shortfall it acts on. A home close must at least not leave E - MM lower than it found it.
  it('(c) a home close never deepens the maintenance shortfall of an account with equity left; a bankrupt one is closed whole, as far as the pool budget allows', () => {
    const violations: string[] = [];
    let homes = 0;
    for (const { label, snapshot, decision } of SEEDS.flatMap(cases)) {
      if (decision.kind !== 'home') continue;
      homes += 1;
      const leg = decision.legs[0];
      if (leg?.kind !== 'local') continue;
      if (snapshot.assessment.equity < 0n) {
        // Bad debt already: closing everything (what the pool can fill) lets the insurance fund cover it.
        const position = positionOf(snapshot, leg.marketId);
        const landing = snapshot.inFlight.filter((f) => f.etaSeconds <= snapshot.terms.homeLatencySeconds).reduce((sum, f) => sum + f.relief, 0n);
        const deficitUsd = Number(snapshot.assessment.maintenance - snapshot.assessment.equity - landing) / 1e6;
        const restores = maintenanceGainUsd(position, Number(leg.amount) / 1e6) >= deficitUsd * (1 - 1e-9);
        // Cut short by the pool's budget: the pool then ends at the budget (selling a long: at 1 - budget of the oracle).
        const paced = Math.abs(poolToOracleAfter(position, Number(leg.amount) / 1e6) - (1 - snapshot.terms.localImpactBudget)) < 1e-6;
        if (position.long && !restores && !paced && leg.amount !== position.notional) violations.push(`${label}: bankrupt, closes ${leg.amount} of ${position.notional}`);
        continue;
      }
      const gain = maintenanceGainUsd(positionOf(snapshot, leg.marketId), Number(leg.amount) / 1e6);
      if (gain < 0) violations.push(`${label}: closes ${leg.amount} of ${leg.marketId} (notional ${positionOf(snapshot, leg.marketId).notional}), E - MM moves by ${gain.toFixed(6)} USD`);
    }
    expect(homes).toBeGreaterThan(50);
    expect(violations.slice(0, 5), `${violations.length} of ${homes} home actions deepen the shortfall`).toEqual([]);
  });

  // Issue 14, item 4: a local close never takes its pool past the impact budget, whatever the
  // pool's price before it; where the pool is already past it, the close waits.
  it('(g) a local leg keeps its pool within the impact budget of the oracle', () => {
    const violations: string[] = [];
    let locals = 0;
    let waits = 0;
    for (const { label, snapshot, decision } of SEEDS.flatMap(cases)) {
      if (decision.kind === 'none' && decision.reason === 'waiting for the pool to recover') waits += 1;
      for (const leg of legsOf(decision)) {
        if (leg.kind !== 'local') continue;
        locals += 1;
        const position = positionOf(snapshot, leg.marketId);
        const budget = snapshot.terms.localImpactBudget;
        // A remainder under 10 USD goes with the close (the core's dust rule): so much over the budget's close is allowed.
        const after = poolToOracleAfter(position, Math.max(0, Number(leg.amount) / 1e6 - 10));
        const within = position.long ? after >= (1 - budget) * (1 - 1e-9) : after <= (1 + budget) * (1 + 1e-9);
        if (!within) violations.push(`${label}: closes ${leg.amount} of ${leg.marketId}, the pool ends at ${after.toFixed(6)} of the oracle (budget ${budget})`);
      }
    }
    expect(locals).toBeGreaterThan(100);
    expect(waits).toBeGreaterThan(0);
    expect(violations.slice(0, 5), `${violations.length} of ${locals} local legs overrun the budget`).toEqual([]);
  });

  it.each(SEEDS)('(e) a snapshot not at risk decides none (seed %i)', (seed) => {
    let seen = 0;
    for (const { label, snapshot, decision } of cases(seed)) {
      if (snapshot.assessment.atRisk) continue;
      seen += 1;
      expect(decision, label).toMatchObject({ kind: 'none', reason: 'not at risk', uncovered: 0n });
    }
    expect(seen).toBeGreaterThan(5);
  });

  it.each(SEEDS)('(f) an avoided route is never used (seed %i)', (seed) => {
    let avoidedSeen = 0;
    for (const { label, snapshot, decision } of cases(seed)) {
      avoidedSeen += snapshot.avoid.length;
      for (const leg of legsOf(decision)) {
        if (leg.kind === 'local' || leg.kind === 'auction') continue;
        const avoided = snapshot.avoid.some((a) => a.chainId === leg.sourceChainId && a.kind === leg.kind && a.transport === leg.transport);
        expect(avoided, `${label}: ${leg.optionId}`).toBe(false);
        // The leg's route is one its source offers.
        const source = snapshot.sources.find((s) => s.kind === leg.kind && s.chainId === leg.sourceChainId);
        expect(source?.routes.some((r) => r.transport === leg.transport && r.latencySeconds === leg.latencySeconds), label).toBe(true);
      }
    }
    expect(avoidedSeen).toBeGreaterThan(20);
  });

  it.each(SEEDS)('(g) the same snapshot gives the same decision (seed %i)', (seed) => {
    for (const { label, snapshot, decision } of cases(seed).slice(0, 100)) {
      expect(decide(structuredClone(snapshot)), label).toEqual(decision);
      expect(decide(snapshot), label).toEqual(decision);
    }
  });
});
