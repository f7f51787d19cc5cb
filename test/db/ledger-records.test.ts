/**
 * The ledger's other records: shortfalls, watcher checkpoints, observed messages, reconciliation
 * runs; and the orchestrator's batched writes (many shortfalls in one statement, many plans in
 * one transaction).
 */
import { eq, inArray, sql } from 'drizzle-orm';
import type { Hash } from 'viem';
import { getAddress } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerDatabase } from '../../db/client.js';
import { shortfallIdOf } from '../../db/ids.js';
import {
  closeShortfall,
  finishReconciliationRun,
  getCheckpoint,
  recordMessage,
  recordMessageDelivery,
  episodeStates,
  recordSettlement,
  recordSettlements,
  recordShortfall,
  recordShortfalls,
  resolveFinding,
  recordFinding,
  saveCheckpoint,
  startReconciliationRun,
  type RecordSettlementParameters,
  type RecordShortfallParameters,
} from '../../db/ledger/index.js';
import type { MessageRef } from '../../db/message-id.js';
import { legEvents, legs, messages, reconciliationRuns, settlements, shortfalls } from '../../db/schema/index.js';
import { ALPHA, BETA, ENGINE, GAMMA, accountOf, collateralLeg, hashOf, seedChains } from './support/fixtures.js';
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

describe('shortfalls', () => {
  const report = {
    chainId: ALPHA,
    engine: ENGINE,
    account: accountOf(7),
    episode: 3n,
    reason: 'stale-price' as const,
    equity: -5n,
    maintenance: 10n,
    requiredAmount: 20n,
    detectedBlock: 99n,
    detectedAt: new Date('2025-03-01T00:00:00Z'),
    detail: { market: 'ETH', staleSeconds: 900 },
  };

  it('records an episode once, under its derived id; the first report stands', async () => {
    const first = await recordShortfall(db, report);
    expect(first.created).toBe(true);
    // Stored lower-case, read back checksummed.
    expect(first.shortfall).toMatchObject({ id: shortfallIdOf(report), account: getAddress(accountOf(7)), equity: -5n, status: 'open', badDebt: 0n });
    const again = await recordShortfall(db, { ...report, requiredAmount: 999n });
    expect(again).toEqual({ shortfall: first.shortfall, created: false });
  });

  it('closes an open shortfall once, with its bad debt', async () => {
    const id = shortfallIdOf(report);
    expect(await closeShortfall(db, { shortfallId: id, closedAt: new Date('2025-03-02T00:00:00Z'), badDebt: 4n })).toBe(true);
    expect(await closeShortfall(db, { shortfallId: id, closedAt: new Date('2025-03-03T00:00:00Z'), badDebt: 0n })).toBe(false);
    const { shortfall } = await recordShortfall(db, report);
    expect(shortfall).toMatchObject({ status: 'closed', badDebt: 4n, closedAt: new Date('2025-03-02T00:00:00Z') });
  });
});

describe('watcher checkpoints', () => {
  it('saves, advances and (after a reorg) rewinds', async () => {
    expect(await getCheckpoint(db, BETA)).toBeUndefined();
    await saveCheckpoint(db, { chainId: BETA, blockNumber: 100n, blockHash: hashOf('b100') });
    await saveCheckpoint(db, { chainId: BETA, blockNumber: 105n, blockHash: hashOf('b105') });
    expect(await getCheckpoint(db, BETA)).toMatchObject({ blockNumber: 105n, blockHash: hashOf('b105') });
    await saveCheckpoint(db, { chainId: BETA, blockNumber: 98n, blockHash: hashOf('b98') });
    expect(await getCheckpoint(db, BETA)).toMatchObject({ blockNumber: 98n });
  });
});

describe('messages', () => {
  const emitter = `0x${'00'.repeat(12)}${'cd'.repeat(20)}` as const;
  const wormhole: MessageRef = { transport: 'wormhole', emitterChain: 4, emitter, sequence: 2n ** 63n + 5n };
  const layerzero: MessageRef = { transport: 'layerzero', guid: hashOf('guid 1') };
  const observed = { sourceChainId: BETA, destinationChainId: ALPHA, sourceTxHash: hashOf('src'), sourceBlock: 10n, amount: 2n ** 100n };

  it('records what a watcher saw once, however often it sees it', async () => {
    const first = await recordMessage(db, { ref: wormhole, legId: hashOf('unknown leg'), ...observed });
    expect(first.created).toBe(true);
    expect(first.message).toMatchObject({ id: `4/${emitter.slice(2)}/${2n ** 63n + 5n}`, whSequence: 2n ** 63n + 5n, amount: 2n ** 100n });
    expect((await recordMessage(db, { ref: wormhole, ...observed })).created).toBe(false);
    expect((await recordMessage(db, { ref: layerzero, ...observed })).message).toMatchObject({ id: hashOf('guid 1'), lzGuid: hashOf('guid 1') });
  });

  it('keeps the first delivery and hands back a second one for reconciliation', async () => {
    const delivery = { ref: layerzero, destinationTxHash: hashOf('dst 1'), destinationBlock: 20n, deliveredAt: new Date('2025-03-01T00:01:00Z') };
    expect((await recordMessageDelivery(db, delivery)).recorded).toBe(true);
    const duplicate = await recordMessageDelivery(db, { ...delivery, destinationTxHash: hashOf('dst 2') });
    expect(duplicate.recorded).toBe(false);
    expect(duplicate.message?.destinationTxHash).toBe(hashOf('dst 1'));
  });

  it('refuses a row whose id does not match its transport fields', async () => {
    await expect(
      db.insert(messages).values({ id: hashOf('a'), transport: 'layerzero', lzGuid: hashOf('b'), sourceChainId: BETA, sourceTxHash: hashOf('s'), sourceBlock: 1n }),
    ).rejects.toMatchObject({ cause: { code: '23514', constraint: 'messages_transport_id_check' } });
  });
});

describe('reconciliation runs', () => {
  it('finishes a run once and resolves a finding once', async () => {
    const runId = await startReconciliationRun(db, { node: 'node-1', scope: { chains: ['alpha'] } });
    const findingId = await recordFinding(db, { runId, kind: 'supply_mismatch', severity: 'critical', expected: 10n, actual: 9n });
    await finishReconciliationRun(db, { runId, status: 'failed', summary: { findings: 1 } });
    await finishReconciliationRun(db, { runId, status: 'passed' });
    const [run] = await db.select().from(reconciliationRuns).where(eq(reconciliationRuns.id, runId));
    expect(run).toMatchObject({ status: 'failed', summary: { findings: 1 } });
    expect(run?.finishedAt).toBeInstanceOf(Date);
    expect(await resolveFinding(db, { findingId, resolution: 'supply restored' })).toBe(true);
    expect(await resolveFinding(db, { findingId, resolution: 'again' })).toBe(false);
    const open = await db.execute<{ n: number }>(sql`select count(*)::int as n from reconciliation_findings where resolved_at is null`);
    expect(open.rows).toEqual([{ n: 0 }]);
  });
});

let episodes = 5_000_000n;
function report(overrides: Partial<RecordShortfallParameters> = {}): RecordShortfallParameters {
  episodes += 1n;
  return {
    chainId: ALPHA,
    engine: ENGINE,
    account: accountOf(9),
    episode: episodes,
    reason: 'breach',
    equity: 90n,
    maintenance: 100n,
    requiredAmount: 25n,
    detectedBlock: 7n,
    detectedAt: new Date('2026-11-30T00:00:00Z'),
    ...overrides,
  };
}

/** Two fresh shortfalls, recorded together. */
async function twoShortfalls(): Promise<[Hash, Hash]> {
  const [a, b] = await recordShortfalls(db, [report(), report()]);
  if (!a || !b) throw new Error('two shortfalls recorded, fewer returned');
  return [a.id, b.id];
}

function plan(shortfallId: Hash, amounts: readonly bigint[]): RecordSettlementParameters {
  const total = amounts.reduce((a, b) => a + b, 0n);
  return { shortfallId, revision: 0, requiredAmount: total, coveredAmount: total, plannedCostUsd: '0.5', plan: { legs: amounts.length }, legs: amounts.map((amount) => collateralLeg(amount)) };
}

describe('recording shortfalls in a batch', () => {
  it('creates each new episode once, in order, and leaves an episode already recorded as it was', async () => {
    const known = report({ requiredAmount: 11n });
    await recordShortfall(db, known);
    const fresh = report({ requiredAmount: 12n });
    const result = await recordShortfalls(db, [fresh, { ...known, requiredAmount: 999n }, { ...fresh, requiredAmount: 998n }]);
    expect(result).toEqual([
      { id: shortfallIdOf(fresh), created: true },
      { id: shortfallIdOf(known), created: false },
      { id: shortfallIdOf(fresh), created: false },
    ]);
    const rows = await db.select().from(shortfalls).where(inArray(shortfalls.id, [shortfallIdOf(fresh), shortfallIdOf(known)]));
    expect(new Map(rows.map((row) => [row.id, row.requiredAmount]))).toEqual(new Map([[shortfallIdOf(fresh), 12n], [shortfallIdOf(known), 11n]]));
  });

  it('writes nothing when one report of the batch cannot be recorded', async () => {
    const good = report();
    await expect(recordShortfalls(db, [good, report({ chainId: 999_999 })])).rejects.toThrow();
    expect(await db.select().from(shortfalls).where(eq(shortfalls.id, shortfallIdOf(good)))).toEqual([]);
  });
});

describe('where shortfalls stand for planning', () => {
  it('tells open from closed episodes and gives the settlement already recorded, with its legs in order', async () => {
    const [open, closedUnplanned] = await twoShortfalls();
    const [closedPlanned] = await twoShortfalls();
    const recorded = await recordSettlement(db, plan(closedPlanned, [5n, 6n]));
    for (const id of [closedUnplanned, closedPlanned]) await closeShortfall(db, { shortfallId: id, closedAt: new Date('2026-11-30T01:00:00Z'), badDebt: 0n });
    const states = await episodeStates(db, [open, closedUnplanned, closedPlanned, hashOf('unknown')]);
    expect([...states.keys()].sort()).toEqual([open, closedUnplanned, closedPlanned].sort());
    expect(states.get(open)).toMatchObject({ open: true, revisions: [] });
    expect(states.get(closedUnplanned)).toMatchObject({ open: false, revisions: [] });
    expect(states.get(closedPlanned)).toMatchObject({ open: false, revisions: [{ revision: 0, settlementId: recorded.settlementId, legIds: recorded.legIds }] });
  });
});

describe('recording plans in a batch', () => {
  it('records each settlement with its legs and first events, as one plan at a time would', async () => {
    const [a, b] = await twoShortfalls();
    const batch = await recordSettlements(db, [plan(a, [10n, 15n]), plan(b, [25n])]);
    expect(batch.map((s) => [s.created, s.legIds.length])).toEqual([[true, 2], [true, 1]]);
    const alone = await recordSettlement(db, plan(a, [10n, 15n]));
    expect(alone).toEqual({ ...batch[0], created: false });
    const recorded = await db.select().from(legs).where(inArray(legs.settlementId, batch.map((s) => s.settlementId)));
    expect(recorded.map((leg) => [leg.settlementId, leg.legIndex, leg.amount, leg.status]).sort()).toEqual(
      [[batch[0]?.settlementId, 0, 10n, 'planned'], [batch[0]?.settlementId, 1, 15n, 'planned'], [batch[1]?.settlementId, 0, 25n, 'planned']].sort(),
    );
    const events = await db.select().from(legEvents).where(inArray(legEvents.legId, recorded.map((leg) => leg.id)));
    expect(events.map((event) => [event.seq, event.toStatus])).toEqual([[1, 'planned'], [1, 'planned'], [1, 'planned']]);
  });

  it('keeps the first plan of a shortfall planned twice in one batch, and the one recorded before', async () => {
    const [known, fresh] = await twoShortfalls();
    const before = await recordSettlement(db, plan(known, [5n]));
    const batch = await recordSettlements(db, [plan(fresh, [7n, 8n]), plan(known, [1n, 2n, 3n]), plan(fresh, [15n])]);
    expect(batch.map((s) => s.created)).toEqual([true, false, false]);
    expect(batch[1]?.legIds).toEqual(before.legIds);
    expect(batch[2]?.legIds).toEqual(batch[0]?.legIds);
    const [settlement] = await db.select().from(settlements).where(eq(settlements.id, batch[0]?.settlementId ?? '0x'));
    expect(settlement?.requiredAmount).toBe(15n);
  });

  it('writes nothing of the batch when one of its plans is refused', async () => {
    const [good, bad] = await twoShortfalls();
    const refused = { ...plan(bad, [4n]), legs: [collateralLeg(4n, { sourceChainId: 999_999, destinationChainId: GAMMA })] };
    await expect(recordSettlements(db, [plan(good, [3n]), refused])).rejects.toThrow(/legs/);
    expect(await db.select().from(settlements).where(inArray(settlements.shortfallId, [good, bad]))).toEqual([]);
  });
});
