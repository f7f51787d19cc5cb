/**
 * The auction as an option of the decision core (issue 14 item 3), on generators.ts `oneLong`:
 * one long of 10,000 USD, m 0.05, penalty 0.02, E 400 (100 USD below maintenance). Maker ETH-B's
 * auction: buf 1.2, cut 0.99, step 90 s, cusp 0.4, tail 8,400 s; takers want 1% under the pool.
 * At a pool on the oracle the first step under 0.99 x oracle is n = 20 (1.2 x 0.99^20 = 0.9814):
 * the account pays 0.0186 + 0.02 = 0.0386 per USD taken and gains 0.05 - 0.0386 = 0.0114 of
 * maintenance, so the lot that restores it is 100 / 0.0114 = 8,772 USD, after 12 + 1,800 s.
 */
import { describe, expect, it } from 'vitest';
import { decide, type PolicyDecision, type PolicyLeg, type PolicyPosition } from '../../relayer/policy/index.js';
import { policyOptions } from '../../relayer/policy/options.js';
import { SnapshotError } from '../../relayer/policy/validate-snapshot.js';
import { ONE_LONG_TERMS, ORACLE_PRICE, oneLong, poolAt, usd } from './generators.js';

const MAKER = { buf: 1.2, cut: 0.99, cusp: 0.4, stepSeconds: 90, tailSeconds: 8_400 };
const TERMS = { ...ONE_LONG_TERMS, auctionTakerMargin: 0.01 };
const legsOf = (decision: PolicyDecision): readonly PolicyLeg[] => (decision.kind === 'none' ? [] : decision.legs);
const usdOf = (units: bigint): number => Number(units) / 1e6;
/** A 1% pool fee unless a test says otherwise: the fee and slippage are what a close pays that an auction does not. */
const account = (params: { poolUsd: number; risk?: number; fee?: number; halfLife?: number; position?: Partial<PolicyPosition> }) =>
  oneLong({
    equityUsd: 400,
    position: { auction: MAKER, pool: poolAt({ quoteUsd: params.poolUsd, oraclePrice: ORACLE_PRICE, fee: params.fee ?? 0.01 }), ...params.position },
    terms: { ...TERMS, riskPerSecondPerUsd: params.risk ?? 0, arbitrageHalfLifeSeconds: params.halfLife ?? 0 },
  });

describe('the auction option', () => {
  it('is priced at the first step under the pool less the takers margin, up to what restores maintenance', () => {
    const snapshot = account({ poolUsd: 10_000_000, fee: 0 });
    const option = policyOptions({ snapshot, riskPerSecond: 0, needUsd: 200 }).find((o) => o.option.id === 'auction:alpha')?.option;
    expect(option?.latency).toBeCloseTo(12 + 20 * 90, 9);
    const ratio = 1.2 * 0.99 ** 20;
    expect(ratio).toBeLessThanOrEqual(0.99);
    expect(1.2 * 0.99 ** 19).toBeGreaterThan(0.99);
    const loss = 1 - ratio + 0.02;
    // Relief per notional 0.06 - loss over the lot 100 / (0.05 - loss).
    expect(option?.capacity).toBeCloseTo((100 / (0.05 - loss)) * (0.06 - loss), 6);
    expect(option?.cost).toEqual({ type: 'linear', rate: expect.closeTo(loss / (0.06 - loss), 9) });
  });

  it.each([
    ['with a fee and fast arbitrage', { fee: 0.01 }],
    ['without a fee but slow arbitrage', { fee: 0, halfLife: 600, risk: 2e-4 }],
  ])('is the home action where the pool is thin and the wait is cheap (%s)', (_, pool) => {
    // A 20,000 USD pool: no close restores maintenance in one chunk; the paced chunks cost more in loss and waiting.
    const decision = decide(account({ poolUsd: 20_000, ...pool }));
    expect(decision.kind).toBe('home');
    const leg = legsOf(decision)[0];
    expect(leg?.kind).toBe('auction');
    expect(leg).toMatchObject({ optionId: 'auction:alpha', sourceChainId: 1, marketId: 'ETH', latencySeconds: 1_812 });
    const loss = 1 - 1.2 * 0.99 ** 20 + 0.02;
    expect(usdOf(leg?.amount ?? 0n)).toBeCloseTo(100 / (0.05 - loss), 4);
  });

  it.each([
    ['with a fee and fast arbitrage', { fee: 0.01 }],
    ['without a fee but slow arbitrage', { fee: 0, halfLife: 600, risk: 2e-4 }],
  ])('is not the home action where the pool is deep (%s)', (_, pool) => {
    const leg = legsOf(decide(account({ poolUsd: 10_000_000, ...pool })))[0];
    expect(leg?.kind).toBe('local');
  });

  it('is not the home action in a thin pool when waiting is dear', () => {
    // 1e-3 per USD-second: the auction's 1,812 s on 100 USD is 181 USD of waiting, the chunks' far less.
    expect(legsOf(decide(account({ poolUsd: 20_000, risk: 1e-3 })))[0]?.kind).toBe('local');
  });

  it('is not offered above maintenance, without takers, or with an auction of the account open', () => {
    const ids = (snapshot: ReturnType<typeof account>) => policyOptions({ snapshot, riskPerSecond: 0, needUsd: 100 }).map((o) => o.option.id);
    expect(ids(oneLong({ equityUsd: 550, position: { auction: MAKER }, terms: TERMS }))).not.toContain('auction:alpha');
    expect(ids(oneLong({ equityUsd: 400, position: { auction: MAKER } }))).not.toContain('auction:alpha');
    const open = account({ poolUsd: 20_000 });
    expect(ids({ ...open, inFlight: [{ kind: 'auction', relief: usd(10), etaSeconds: 0 }] })).not.toContain('auction:alpha');
  });

  it('expects no fill when the price resets (cusp) before beating the pool', () => {
    // A pool at 30% of the oracle: the lot would have to fall under 0.297, below the cusp of 0.4.
    const snapshot = account({ poolUsd: 20_000, position: { pool: poolAt({ quoteUsd: 20_000, oraclePrice: ORACLE_PRICE, poolToOracle: 0.3 }) } });
    expect(policyOptions({ snapshot, riskPerSecond: 0, needUsd: 100 }).map((o) => o.option.id)).not.toContain('auction:alpha');
  });
});

describe('the per-block notional cap', () => {
  it.each([
    ['an auction lot', 20_000],
    ['a local close', 10_000_000],
  ])('keeps %s within what the block has left', (_, poolUsd) => {
    const leg = legsOf(decide(account({ poolUsd, position: { blockNotionalLeft: usd(1_500) } })))[0];
    expect(leg).toBeDefined();
    expect(leg?.amount).toBeLessThanOrEqual(usd(1_500));
    expect(usdOf(leg?.amount ?? 0n)).toBeCloseTo(1_500, 4);
  });

  it('leaves no home close when the block has nothing left', () => {
    const decision = decide(oneLong({ equityUsd: 400, position: { blockNotionalLeft: 0n } }));
    expect(legsOf(decision).filter((leg) => leg.kind === 'local')).toEqual([]);
  });
});

describe('bad auction input', () => {
  it.each([
    ['cut', { cut: 1 }],
    ['cut', { cut: 0 }],
    ['cusp', { cusp: 1.1 }],
    ['cusp', { cusp: 0 }],
    ['stepSeconds', { stepSeconds: 0 }],
    ['tailSeconds', { tailSeconds: -1 }],
    ['buf', { buf: 0.9 }],
  ])('refuses a bad %s naming it', (field, bad) => {
    const snapshot = oneLong({ equityUsd: 400, position: { auction: { ...MAKER, ...bad } }, terms: TERMS });
    expect(() => decide(snapshot)).toThrow(SnapshotError);
    expect(() => decide(snapshot)).toThrow(`positions[0].auction.${field}`);
  });

  it('refuses a negative blockNotionalLeft and a takers margin of 1, naming them', () => {
    expect(() => decide(oneLong({ equityUsd: 400, position: { blockNotionalLeft: -1n } }))).toThrow('positions[0].blockNotionalLeft');
    expect(() => decide(oneLong({ equityUsd: 400, terms: { ...TERMS, auctionTakerMargin: 1 } }))).toThrow('terms.auctionTakerMargin');
  });
});
