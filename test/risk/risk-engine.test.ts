import { describe, expect, it } from 'vitest';
import { RelayerError } from '../../relayer/errors.js';
import { assessAccount } from '../../relayer/risk/account-health.js';
import { RiskEngine, type RiskChange } from '../../relayer/risk/risk-engine.js';
import type { AccountState } from '../../relayer/risk/types.js';
import { account, config, market, price8, round, T0, units, usd } from './fixtures.js';

const eth = market('ETH');
const btc = market('BTC');

/**
 * 100 accounts, 1 ETH long from 100 with i USD (i = 1..100): with m_eff = m = 5% and warn 10%,
 * account i is at risk iff i + P - 100 < 0.055 P, i.e. i < 100 - 0.945 P.
 */
function ladder(): AccountState[] {
  return Array.from({ length: 100 }, (_, k) => account(`L${k + 1}`, usd(k + 1), [{ market: 'ETH', size: units(1), entryPrice: price8(100) }]));
}
const atRiskBelow = (p: number): string[] => ladder().map((a) => a.account).filter((_, k) => k + 1 < 100 - 0.945 * p);
const ids = (changes: readonly RiskChange[], kind: RiskChange['kind']): string[] => changes.filter((c) => c.kind === kind).map((c) => c.account).sort();

function engineAt100(): RiskEngine {
  const engine = new RiskEngine({ markets: [eth, btc], config: config(), now: T0 });
  engine.applyPriceRound(round('ETH', price8(100)), T0);
  engine.applyPriceRound(round('BTC', price8(100)), T0);
  engine.upsertAccounts(ladder(), T0);
  return engine;
}

describe('RiskEngine', () => {
  it('re-evaluates only the accounts whose breach price the move passed', () => {
    const engine = engineAt100();
    expect(engine.atRiskAccounts().sort()).toEqual(atRiskBelow(100).sort());
    expect(atRiskBelow(100)).toHaveLength(5);

    // Hourly rounds keep the volatility term far below m.
    let before = engine.evaluations;
    const down = engine.applyPriceRound(round('ETH', price8(95), T0 + 3600, 2n), T0 + 3600);
    expect(ids(down, 'reported')).toEqual(['L10', 'L6', 'L7', 'L8', 'L9']);
    expect(ids(down, 'recovered')).toEqual([]);
    expect(engine.evaluations - before).toBe(5);

    before = engine.evaluations;
    const up = engine.applyPriceRound(round('ETH', price8(101), T0 + 7200, 3n), T0 + 7200);
    expect(ids(up, 'recovered')).toEqual(['L10', 'L5', 'L6', 'L7', 'L8', 'L9']);
    expect(engine.evaluations - before).toBe(6);
    expect(engine.atRiskAccounts().sort()).toEqual(atRiskBelow(101).sort());

    // A move that crosses nobody's level evaluates nobody.
    before = engine.evaluations;
    expect(engine.applyPriceRound(round('ETH', price8(101.1), T0 + 10800, 4n), T0 + 10800)).toEqual([]);
    expect(engine.evaluations - before).toBe(0);
  });

  it('reports the holders of a market whose feed goes stale, and lets them recover on a fresh round', () => {
    const engine = engineAt100();
    const btcHolder = account('B1', usd(1000), [{ market: 'BTC', size: units(1), entryPrice: price8(100) }]);
    engine.upsertAccount(btcHolder, T0);
    // The BTC feed keeps updating; ETH's heartbeat (3600 s) passes.
    engine.applyPriceRound(round('BTC', price8(100), T0 + 3000, 2n), T0 + 3000);
    const stale = engine.advanceTo(T0 + 3601);
    expect(ids(stale, 'reported')).toHaveLength(95);
    expect(engine.isAtRisk('B1')).toBe(false);
    expect(engine.health('L100')?.reasons).toEqual([{ kind: 'stale-price', market: 'ETH', ageSeconds: 3601, heartbeatSeconds: 3600 }]);

    const fresh = engine.applyPriceRound(round('ETH', price8(100), T0 + 3601, 2n), T0 + 3601);
    expect(ids(fresh, 'recovered')).toHaveLength(95);
    expect(engine.atRiskAccounts().sort()).toEqual(atRiskBelow(100).sort());
  });

  it('holds every account with a position at risk until its market has a first price', () => {
    const engine = new RiskEngine({ markets: [eth, btc], config: config(), now: T0 });
    const loaded = engine.upsertAccounts([...ladder(), account('flat', usd(1))], T0);
    expect(ids(loaded, 'reported')).toHaveLength(100);
    expect(engine.health('L50')).toEqual({ account: 'L50', atRisk: true, reasons: [{ kind: 'missing-price', market: 'ETH' }], valuation: undefined });
    expect(engine.isAtRisk('flat')).toBe(false);
    const priced = engine.applyPriceRound(round('ETH', price8(100)), T0);
    expect(ids(priced, 'recovered')).toHaveLength(95);
  });

  it('ignores a repeated or older round, and rejects a bad one by name', () => {
    const engine = engineAt100();
    const state = engine.marketState('ETH');
    expect(engine.applyPriceRound(round('ETH', price8(50)), T0)).toEqual([]);
    expect(engine.marketState('ETH')).toBe(state);
    expect(() => engine.applyPriceRound(round('ETH', -5n, T0 + 1, 2n), T0 + 1)).toThrow(new RelayerError('price round 2 of market ETH has a non-positive answer -5'));
    expect(() => engine.applyPriceRound(round('ETH', 0n, T0 + 1, 2n), T0 + 1)).toThrow(RelayerError);
    expect(() => engine.applyPriceRound(round('XRP', 1n, T0 + 1, 2n), T0 + 1)).toThrow(/market XRP is not configured/);
    expect(() => engine.upsertAccount(account('x', 0n, [{ market: 'XRP', size: 1n, entryPrice: 1n }]), T0)).toThrow(/market XRP is not configured/);
  });

  it('goes back to the earlier verdicts when a market is restored after a reorg', () => {
    const engine = engineAt100();
    const saved = engine.marketState('ETH');
    const before = engine.atRiskAccounts().sort();
    engine.applyPriceRound(round('ETH', price8(90), T0 + 60, 2n), T0 + 60);
    expect(engine.atRiskAccounts().length).toBeGreaterThan(before.length);
    const undone = engine.restoreMarket({ market: 'ETH', state: saved, now: T0 });
    expect(ids(undone, 'reported')).toEqual([]);
    expect(engine.atRiskAccounts().sort()).toEqual(before);
    expect(engine.marketState('ETH')).toBe(saved);
  });

  it('gives the same health as a direct assessment, and follows account updates', () => {
    const engine = engineAt100();
    const one = ladder()[2];
    if (one === undefined) throw new Error('no account');
    expect(engine.health(one.account)).toEqual(assessAccount(one, engine.table));
    expect(engine.isAtRisk(one.account)).toBe(true);
    const required = engine.health(one.account)?.valuation?.requiredAmount ?? 0n;
    const toppedUp = engine.upsertAccount({ ...one, collateral: one.collateral + required }, T0 + 1);
    expect(toppedUp).toEqual([{ kind: 'recovered', account: one.account }]);
    expect(engine.health(one.account)?.valuation?.requiredAmount).toBe(0n);
    expect(engine.health('nobody')).toBeUndefined();
  });

  it('applies new settings: a longer action time under high volatility, then the forecast', () => {
    const engine = engineAt100();
    // A 10% hourly move sets sigma^2 ~ 1.9e-7/s; with T_act = 20000 s, 3 sigma sqrt(T) ~ 18% > m.
    engine.applyPriceRound(round('ETH', price8(110), T0 + 3600, 2n), T0 + 3600);
    const calm = engine.atRiskAccounts().length;
    const slow = engine.reconfigure(config({ actionSeconds: 20_000 }), T0 + 3600);
    expect(ids(slow, 'reported').length).toBeGreaterThan(0);
    expect(engine.atRiskAccounts().length).toBe(calm + ids(slow, 'reported').length);
    expect(engine.fullScan()).toEqual(new Set(engine.atRiskAccounts()));
    // At a 0.1% level k = 3.29 and f = m + (1 - m) k sigma sqrt(T) exceeds m_eff (1 + warn) =
    // 3.3 sigma sqrt(T) while sigma sqrt(T) ~ 0.055: the forecast asks for more than warn.
    const proactive = engine.reconfigure(config({ actionSeconds: 20_000, forecastLevel: 0.001 }), T0 + 3600);
    expect(ids(proactive, 'reported').length).toBeGreaterThan(0);
    expect(engine.fullScan()).toEqual(new Set(engine.atRiskAccounts()));
    const reason = engine.health(ids(proactive, 'reported')[0] ?? '')?.reasons;
    expect(reason).toContainEqual(expect.objectContaining({ kind: 'forecast', level: 0.001 }));
  });

  it('applies the rounds of one block together, or none of them if one is bad', () => {
    const engine = engineAt100();
    const cross = account('X', usd(30), [
      { market: 'ETH', size: units(1), entryPrice: price8(100) },
      { market: 'BTC', size: units(1), entryPrice: price8(100) },
    ]);
    engine.upsertAccount(cross, T0);
    const eth = engine.marketState('ETH');
    const btcBefore = engine.marketState('BTC');
    expect(() =>
      engine.applyPriceRounds([round('ETH', price8(90), T0 + 60, 2n), round('BTC', -1n, T0 + 60, 2n)], T0 + 60),
    ).toThrow(/price round 2 of market BTC has a non-positive answer -1/);
    expect(engine.marketState('ETH')).toBe(eth);
    expect(engine.marketState('BTC')).toBe(btcBefore);

    // Both markets fall 20% in an hour (m_eff stays m): E = 30 - 40 = -10 < warn: X is reported once.
    const before = engine.evaluations;
    const fall = engine.applyPriceRounds([round('ETH', price8(80), T0 + 3600, 2n), round('BTC', price8(80), T0 + 3600, 2n)], T0 + 3600);
    expect(fall.filter((change) => change.account === 'X')).toEqual([{ kind: 'reported', account: 'X' }]);
    // Every ladder account with i < 100 - 0.945 * 80 = 24.4 is at risk, 19 of them newly.
    expect(ids(fall, 'reported')).toHaveLength(20);
    expect(engine.evaluations - before).toBe(20);
  });

  it('validates a batch of accounts before applying any', () => {
    const engine = engineAt100();
    const good = account('G', usd(1), [{ market: 'ETH', size: units(1), entryPrice: price8(100) }]);
    const bad = account('B', usd(1), [{ market: 'DOGE', size: units(1), entryPrice: price8(100) }]);
    expect(() => engine.upsertAccounts([good, bad], T0)).toThrow(/market DOGE is not configured/);
    expect(engine.health('G')).toBeUndefined();
    expect(engine.accountCount).toBe(100);
  });
});
