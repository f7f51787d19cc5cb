/**
 * The closed loop's read side against a real server: where each episode stands (every revision
 * with its legs, the next revision, relief in flight) and its latest assessment, recorded from
 * the report and moved forward only while the episode is open and only to a later block.
 */
import { eq, sql } from 'drizzle-orm';
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerDatabase } from '../../db/client.js';
import { LedgerError } from '../../db/errors.js';
import { shortfallIdOf } from '../../db/ids.js';
import {
  closeShortfall,
  episodeStates,
  recordAssessments,
  recordSettlement,
  recordShortfall,
  type PlannedLeg,
  type RecordShortfallParameters,
} from '../../db/ledger/index.js';
import { shortfalls } from '../../db/schema/index.js';
import { ALPHA, BETA, ENGINE, accountOf, collateralLeg, hashOf, liquidityLeg, pathTo, seedChains, walk } from './support/fixtures.js';
import { createMigratedLedger } from './support/test-database.js';

let db: LedgerDatabase;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const created = await createMigratedLedger();
  db = created.ledger.db;
  cleanup = created.cleanup;
  await seedChains(db);
});

afterAll(async () => {
  await cleanup?.();
});

let episodes = 9_000_000n;
function report(overrides: Partial<RecordShortfallParameters> = {}): RecordShortfallParameters {
  episodes += 1n;
  return {
    chainId: ALPHA,
    engine: ENGINE,
    account: accountOf(4),
    episode: episodes,
    reason: 'breach',
    equity: 900n,
    maintenance: 1_000n,
    requiredAmount: 500n,
    detectedBlock: 40n,
    detectedAt: new Date('2026-12-01T10:00:00Z'),
    detail: { mEff: 0.05 },
    ...overrides,
  };
}

async function revision(shortfallId: Hash, number: number, legs: readonly PlannedLeg[]) {
  return recordSettlement(db, { shortfallId, revision: number, requiredAmount: 500n, coveredAmount: 500n, plannedCostUsd: '1', plan: {}, legs });
}

const mine = { account: accountOf(4) };

describe('episode states', () => {
  it('gives every revision in order with its legs, the next revision and the relief still in flight', async () => {
    const { shortfall } = await recordShortfall(db, report());
    // Revision 1 recorded before revision 0 is found: order is by revision, not by recording.
    const r1 = await revision(shortfall.id, 1, [liquidityLeg(50n, { ...mine, relief: 120n }), collateralLeg(30n, mine)]);
    const r0 = await revision(shortfall.id, 0, [collateralLeg(100n, mine), liquidityLeg(60n, { ...mine, relief: 150n })]);
    const r2 = await revision(shortfall.id, 2, []);
    // Revision 0 ends: one leg credited, one failed. Revision 1 is under way: one leg delivered, one planned.
    await walk(db, { legId: r0.legIds[0] as Hash, from: 'planned', steps: pathTo('credited') });
    await walk(db, { legId: r0.legIds[1] as Hash, from: 'planned', steps: pathTo('failed') });
    await walk(db, { legId: r1.legIds[0] as Hash, from: 'planned', steps: pathTo('delivered') });

    const state = (await episodeStates(db, [shortfall.id])).get(shortfall.id);
    // Each revision's legs as the closed loop reads them: kind, source, status and relief.
    expect(state?.revisions[0]?.legs.map((leg) => [leg.kind, leg.status, leg.relief])).toEqual([
      ['collateral', 'credited', 100n],
      ['liquidity', 'failed', 150n],
    ]);
    expect(state).toMatchObject({
      account: shortfall.account,
      open: true,
      latestAssessment: { requiredAmount: 500n, equity: 900n, maintenance: 1_000n, mEff: 0.05, block: 40n, at: new Date('2026-12-01T10:00:00Z') },
      revisions: [
        { revision: 0, settlementId: r0.settlementId, legIds: r0.legIds, legStatuses: ['credited', 'failed'], active: false },
        { revision: 1, settlementId: r1.settlementId, legIds: r1.legIds, legStatuses: ['delivered', 'planned'], active: true },
        { revision: 2, settlementId: r2.settlementId, legIds: [], legStatuses: [], active: false },
      ],
      nextRevision: 3,
      // Revision 1's two legs: 120 (a liquidity leg's relief, not its 50) + 30.
      inFlightRelief: 150n,
    });
  });

  it("counts in flight only the account's own legs toward the episode's chain, and ends with them", async () => {
    const { shortfall } = await recordShortfall(db, report());
    const { legIds } = await revision(shortfall.id, 0, [
      collateralLeg(10n, mine),
      collateralLeg(20n, { account: accountOf(5) }),
      collateralLeg(40n, { ...mine, sourceChainId: ALPHA, destinationChainId: BETA }),
      liquidityLeg(5n, { ...mine, relief: 7n }),
    ]);
    expect((await episodeStates(db, [shortfall.id])).get(shortfall.id)?.inFlightRelief).toBe(17n);
    await walk(db, { legId: legIds[3] as Hash, from: 'planned', steps: pathTo('refunded') });
    expect((await episodeStates(db, [shortfall.id])).get(shortfall.id)?.inFlightRelief).toBe(10n);
  });

  it('reads a batch in one call: unplanned and closed episodes too, unknown ids absent', async () => {
    const { shortfall: unplanned } = await recordShortfall(db, report());
    const { shortfall: closed } = await recordShortfall(db, report());
    const r0 = await revision(closed.id, 0, [collateralLeg(10n, mine)]);
    await closeShortfall(db, { shortfallId: closed.id, closedAt: new Date('2026-12-01T11:00:00Z'), badDebt: 0n });
    const states = await episodeStates(db, [unplanned.id, closed.id, hashOf('nobody')]);
    expect([...states.keys()].sort()).toEqual([unplanned.id, closed.id].sort());
    expect(states.get(unplanned.id)).toMatchObject({ open: true, revisions: [], nextRevision: 0, inFlightRelief: 0n });
    expect(states.get(closed.id)).toMatchObject({ open: false, nextRevision: 1, inFlightRelief: 10n, revisions: [{ revision: 0, settlementId: r0.settlementId, legIds: r0.legIds, active: true }] });
    expect(await episodeStates(db, [])).toEqual(new Map());
  });
});

describe('latest assessment', () => {
  const MARKET = `0x${'ab'.repeat(32)}`;
  const later = { requiredAmount: 800n, equity: -20n, maintenance: 1_100n, mEff: 0.07, targetFractions: { [MARKET]: 0.084 }, block: 41n, at: new Date('2026-12-01T10:00:12Z') };

  it('starts as the report, however the row was inserted', async () => {
    const { shortfall } = await recordShortfall(db, report({ requiredAmount: 321n }));
    expect(shortfall).toMatchObject({ latestRequiredAmount: 321n, latestEquity: 900n, latestMaintenance: 1_000n, latestMEff: 0.05, latestBlock: 40n, latestAt: new Date('2026-12-01T10:00:00Z') });
    // As the watcher writes it: its own insert, no latest columns given.
    const watched = report({ detail: { reasons: [] } });
    await db.insert(shortfalls).values({ id: shortfallIdOf(watched), ...watched, detail: watched.detail ?? {} });
    const [row] = await db.select().from(shortfalls).where(eq(shortfalls.id, shortfallIdOf(watched)));
    expect(row).toMatchObject({ latestRequiredAmount: 500n, latestBlock: 40n, latestMEff: null });
    // A report with its per-market target fractions: they are the first assessment's too.
    const perMarket = report({ detail: { mEff: 0.06, targetFractions: { [MARKET]: 0.072 } } });
    await db.insert(shortfalls).values({ id: shortfallIdOf(perMarket), ...perMarket, detail: perMarket.detail ?? {} });
    expect((await episodeStates(db, [shortfallIdOf(perMarket)])).get(shortfallIdOf(perMarket))?.latestAssessment).toMatchObject({ mEff: 0.06, targetFractions: { [MARKET]: 0.072 } });
    expect((await episodeStates(db, [shortfallIdOf(watched)])).get(shortfallIdOf(watched))?.latestAssessment.targetFractions).toEqual({});
  });

  it('moves forward to a later block while the episode is open, and only then', async () => {
    const { shortfall: open } = await recordShortfall(db, report());
    const { shortfall: closed } = await recordShortfall(db, report());
    await closeShortfall(db, { shortfallId: closed.id, closedAt: new Date('2026-12-01T10:01:00Z'), badDebt: 0n });
    expect(await recordAssessments(db, [{ shortfallId: open.id, ...later }, { shortfallId: closed.id, ...later }])).toEqual([open.id]);
    expect((await episodeStates(db, [open.id])).get(open.id)?.latestAssessment).toEqual({ requiredAmount: 800n, equity: -20n, maintenance: 1_100n, mEff: 0.07, targetFractions: { [MARKET]: 0.084 }, sigmas: {}, block: 41n, at: later.at });
    expect((await episodeStates(db, [closed.id])).get(closed.id)?.latestAssessment.block).toBe(40n);
    // The same block again, or an older one (a replay, a slower node): nothing changes.
    expect(await recordAssessments(db, [{ shortfallId: open.id, ...later, requiredAmount: 1n }, { shortfallId: open.id, ...later, block: 39n, requiredAmount: 2n }])).toEqual([]);
    // Several for one episode in one call: the latest block wins.
    const batch = [45n, 47n, 46n].map((block) => ({ shortfallId: open.id, ...later, block, requiredAmount: block }));
    expect(await recordAssessments(db, batch)).toEqual([open.id]);
    expect((await episodeStates(db, [open.id])).get(open.id)?.latestAssessment).toMatchObject({ block: 47n, requiredAmount: 47n });
  });

  it("is part of its caller's transaction", async () => {
    const { shortfall } = await recordShortfall(db, report());
    await expect(
      db.transaction(async (tx) => {
        expect(await recordAssessments(tx, [{ shortfallId: shortfall.id, ...later }])).toEqual([shortfall.id]);
        throw new Error('the watcher step failed');
      }),
    ).rejects.toThrow('the watcher step failed');
    expect((await episodeStates(db, [shortfall.id])).get(shortfall.id)?.latestAssessment.block).toBe(40n);
  });

  it('refuses what is not an assessment', async () => {
    const { shortfall } = await recordShortfall(db, report());
    await expect(recordAssessments(db, [{ shortfallId: shortfall.id, ...later, mEff: Number.NaN }])).rejects.toBeInstanceOf(LedgerError);
    await expect(recordAssessments(db, [{ shortfallId: shortfall.id, ...later, targetFractions: { [MARKET]: -0.1 } }])).rejects.toThrow(`the target fraction of market ${MARKET}`);
    await expect(recordAssessments(db, [{ shortfallId: shortfall.id, ...later, requiredAmount: -1n }])).rejects.toMatchObject({
      cause: { constraint: 'shortfalls_latest_required_amount_check' },
    });
    expect(await recordAssessments(db, [])).toEqual([]);
    const { rows } = await db.execute<{ n: number }>(sql`select count(*)::int as n from shortfalls where latest_block is null`);
    expect(rows).toEqual([{ n: 0 }]);
  });
});
