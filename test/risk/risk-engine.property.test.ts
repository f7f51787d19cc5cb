import { describe, expect, it } from 'vitest';
import { RiskEngine, type RiskChange } from '../../relayer/risk/risk-engine.js';
import { SeededRandom } from '../../relayer/seeded-random.js';
import type { AccountState, MarketState } from '../../relayer/risk/types.js';
import { config, T0 } from './fixtures.js';
import { randomAccount, randomMarkets, randomPrice } from './generators.js';
import { referenceVerdict, type ReferenceMarket } from './reference.js';

const ACCOUNTS = 400;
const STEPS = 160;

interface Outcome {
  readonly flips: number;
  readonly steps: Record<string, number>;
}

/**
 * A random population (half cross-margin) through a random path: rounds with small moves and
 * jumps, time passing past heartbeats, account updates, new settings and reorgs. After every
 * step the index's verdicts, the transitions it emitted, the full scan and (every few steps)
 * the independent reference must all name the same at-risk accounts.
 */
function walk(seed: number, forecast: boolean): Outcome {
  const random = new SeededRandom(seed);
  const markets = randomMarkets(random);
  let settings = config({ actionSeconds: 30, forecastLevel: forecast ? 0.05 : undefined });
  const engine = new RiskEngine({ markets, config: settings, now: T0 });
  const prices = markets.map((market) => randomPrice(random, market));
  const roundIds = markets.map(() => 1n);
  const history: MarketState[][] = markets.map(() => []);
  let now = T0;
  // One market may start without a price, so the first round of a market is on the path too.
  markets.forEach((market, i) => {
    if (i === 0 && random.chance(0.5)) return;
    engine.applyPriceRound({ market: market.id, roundId: 1n, answer: prices[i] ?? 1n, updatedAt: now }, now);
  });

  const accounts = new Map<string, AccountState>();
  const shadow = new Set<string>();
  let flips = 0;
  const apply = (changes: readonly RiskChange[]): void => {
    for (const change of changes) {
      flips += 1;
      if (change.kind === 'reported') {
        expect(shadow.has(change.account), `${change.account} reported twice`).toBe(false);
        shadow.add(change.account);
      } else {
        expect(shadow.has(change.account), `${change.account} recovered without a report`).toBe(true);
        shadow.delete(change.account);
      }
    }
  };
  const newAccount = (id: string): AccountState => randomAccount({ random, id, markets, prices });
  const initial = Array.from({ length: ACCOUNTS }, (_, i) => newAccount(`a${i}`));
  for (const account of initial) accounts.set(account.account, account);
  apply(engine.upsertAccounts(initial, now));

  const steps: Record<string, number> = {};
  for (let step = 0; step < STEPS; step++) {
    const roll = random.next();
    const m = random.int(0, markets.length - 1);
    const market = markets[m];
    if (market === undefined) throw new Error('no market');
    let kind: string;
    if (roll < 0.45) {
      kind = 'round';
      const move = random.chance(0.08) ? random.pick([-1, 1]) * random.between(0.05, 0.25) : random.normal() * random.pick([0.001, 0.01, 0.03]);
      const answer = BigInt(Math.max(1, Math.round(Number(prices[m] ?? 1n) * Math.exp(move))));
      prices[m] = answer;
      now += random.int(1, 900);
      roundIds[m] = (roundIds[m] ?? 1n) + 1n;
      history[m]?.push(engine.marketState(market.id));
      apply(engine.applyPriceRound({ market: market.id, roundId: roundIds[m] ?? 1n, answer, updatedAt: now - random.int(0, 5) }, now));
    } else if (roll < 0.56) {
      kind = 'block';
      now += random.int(1, 900);
      const rounds = random.sample(markets, random.int(2, markets.length)).map((moving) => {
        const i = markets.indexOf(moving);
        const answer = BigInt(Math.max(1, Math.round(Number(prices[i] ?? 1n) * Math.exp(random.normal() * 0.02))));
        prices[i] = answer;
        roundIds[i] = (roundIds[i] ?? 1n) + 1n;
        history[i]?.push(engine.marketState(moving.id));
        return { market: moving.id, roundId: roundIds[i] ?? 1n, answer, updatedAt: now };
      });
      apply(engine.applyPriceRounds(rounds, now));
    } else if (roll < 0.62) {
      kind = 'time';
      now += random.pick([1, 60, 600, 2000, 4000]);
      apply(engine.advanceTo(now));
    } else if (roll < 0.85) {
      kind = 'account';
      const id = random.chance(0.2) ? `n${step}` : `a${random.int(0, ACCOUNTS - 1)}`;
      const current = accounts.get(id);
      let next: AccountState;
      if (current === undefined || random.chance(0.4)) next = newAccount(id);
      else if (random.chance(0.2)) next = { ...current, positions: [] };
      else next = { ...current, collateral: current.collateral + BigInt(Math.round(random.normal() * 2000 * 1e6)) };
      accounts.set(id, next);
      now += random.int(0, 30);
      apply(engine.upsertAccount(next, now));
    } else if (roll < 0.9) {
      kind = 'settings';
      settings = config({
        actionSeconds: random.pick([0, 30, 600, 7200]),
        warn: random.pick([0, 0.1]),
        target: 0.3,
        forecastLevel: random.chance(0.5) ? random.pick([0.01, 0.05, 0.3]) : undefined,
      });
      apply(engine.reconfigure(settings, now));
    } else if (roll < 0.95 && (history[m]?.length ?? 0) > 0) {
      kind = 'reorg';
      const earlier = history[m] ?? [];
      const state = earlier[random.int(0, earlier.length - 1)];
      if (state === undefined) throw new Error('no state');
      apply(engine.restoreMarket({ market: market.id, state, now }));
      prices[m] = state.round?.answer ?? prices[m] ?? 1n;
    } else {
      kind = 'repeat';
      const state = engine.marketState(market.id);
      if (state.round !== undefined) expect(engine.applyPriceRound(state.round, now)).toEqual([]);
    }
    steps[kind] = (steps[kind] ?? 0) + 1;

    const atRisk = new Set(engine.atRiskAccounts());
    expect(atRisk, `step ${step} (${kind}): transitions`).toEqual(shadow);
    expect(engine.fullScan(), `step ${step} (${kind}): full scan`).toEqual(atRisk);
    if (step % 8 === 0 || step === STEPS - 1) {
      const byId = new Map<string, ReferenceMarket>(markets.map((params) => [params.id, { params, state: engine.marketState(params.id) }]));
      const expected = new Set([...accounts.values()].filter((account) => referenceVerdict({ account, markets: byId, config: settings, now }).atRisk).map((a) => a.account));
      expect(expected, `step ${step} (${kind}): reference`).toEqual(atRisk);
    }
  }
  return { flips, steps };
}

describe('the incremental index agrees with the full scan', () => {
  it.each([21, 22, 23, 24, 25, 26])('on a random population and path, warn only (seed %i)', (seed) => {
    const outcome = walk(seed, false);
    // The path must actually move accounts across their thresholds, or agreement proves little.
    expect(outcome.flips).toBeGreaterThan(100);
  });

  it.each([31, 32, 33, 34, 35, 36])('on a random population and path, with the forecast (seed %i)', (seed) => {
    const outcome = walk(seed, true);
    expect(outcome.flips).toBeGreaterThan(100);
  });

  it('re-evaluates a small part of the population on ordinary rounds, cross-margin accounts included', () => {
    const random = new SeededRandom(51);
    const markets = randomMarkets(random);
    const engine = new RiskEngine({ markets, config: config({ actionSeconds: 30, forecastLevel: 0.05 }), now: T0 });
    const prices = markets.map((market) => randomPrice(random, market));
    engine.applyPriceRounds(markets.map((market, i) => ({ market: market.id, roundId: 1n, answer: prices[i] ?? 1n, updatedAt: T0 })), T0);
    engine.upsertAccounts(Array.from({ length: ACCOUNTS }, (_, i) => randomAccount({ random, id: `a${i}`, markets, prices })), T0);
    const start = engine.evaluations;
    let flips = 0;
    let now = T0;
    const rounds = 200;
    for (let r = 0; r < rounds; r++) {
      now += 60;
      const m = random.int(0, markets.length - 1);
      const market = markets[m];
      if (market === undefined) throw new Error('no market');
      prices[m] = BigInt(Math.max(1, Math.round(Number(prices[m] ?? 1n) * Math.exp(0.003 * random.normal()))));
      flips += engine.applyPriceRound({ market: market.id, roundId: BigInt(r + 2), answer: prices[m] ?? 1n, updatedAt: now }, now).length;
      expect(engine.fullScan()).toEqual(new Set(engine.atRiskAccounts()));
    }
    const evaluations = engine.evaluations - start;
    expect(flips).toBeGreaterThan(500);
    // Every flip needs an evaluation; the index adds few beyond them (cross-margin bounds),
    // where a scan per round would evaluate ACCOUNTS * rounds = 80,000.
    expect(evaluations).toBeGreaterThanOrEqual(flips);
    expect(evaluations).toBeLessThan(2 * flips);
    expect(evaluations).toBeLessThan(0.1 * ACCOUNTS * rounds);
  });
});
