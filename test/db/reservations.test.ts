/**
 * Shared inventory against a real server: plans racing for one vault never commit more than it
 * holds; reservations are the legs themselves, released by their own transitions; a capacity
 * read at block B already reflects what burned at or before B. And each leg's relief.
 */
import { sql } from 'drizzle-orm';
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerDatabase, LedgerHandle } from '../../db/client.js';
import { LedgerError } from '../../db/errors.js';
import {
  RESERVATION_LOCK_NAMESPACE,
  getLeg,
  recordSettlement,
  recordSettlements,
  recordShortfalls,
  reservedOnSources,
  type PlannedLeg,
  type RecordSettlementParameters,
} from '../../db/ledger/index.js';
import { openPostgresLedger } from '../../db/open-postgres.js';
import { readReport } from '../../db/reports/read-report.js';
import { ALPHA, BETA, ENGINE, GAMMA, accountOf, collateralLeg, liquidityLeg, pathTo, seedChains, walk } from './support/fixtures.js';
import { connect, createMigratedLedger } from './support/test-database.js';

let ledger: LedgerHandle;
let db: LedgerDatabase;
let url: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const created = await createMigratedLedger();
  ({ ledger, cleanup } = created);
  ({ db } = ledger);
  url = created.database.url;
  await seedChains(db);
});

afterAll(async () => {
  await cleanup?.();
});

let episodes = 7_000_000n;
/** `n` fresh shortfalls on alpha for `account`. */
async function shortfalls(n: number, account = accountOf(1)): Promise<Hash[]> {
  const recorded = await recordShortfalls(
    db,
    Array.from({ length: n }, () => {
      episodes += 1n;
      return { chainId: ALPHA, engine: ENGINE, account, episode: episodes, reason: 'breach' as const, equity: 90n, maintenance: 100n, requiredAmount: 1_000n, detectedBlock: 5n, detectedAt: new Date('2026-12-01T00:00:00Z') };
    }),
  );
  return recorded.map(({ id }) => id);
}

function plan(shortfallId: Hash, legs: readonly PlannedLeg[], revision = 0): RecordSettlementParameters {
  return { shortfallId, revision, requiredAmount: 1_000n, coveredAmount: 1_000n, plannedCostUsd: '0.1', plan: { legs: legs.length }, legs };
}

const reserved = (capacity: bigint, observedBlock: bigint) => ({ reservation: { capacity, observedBlock } });

describe('plans racing for one vault', () => {
  // Gamma's vault, read at block 50 with 1000 units; each of 40 plans wants 100 of it.
  const VAULT = { sourceChainId: GAMMA, source: 'vault' as const };
  let raced: { legIds: readonly Hash[]; created: boolean; refused?: unknown }[];

  it('records exactly as many as the vault holds, each in its own transaction, and says why the rest were refused', async () => {
    const ids = await shortfalls(40);
    // 40 connections: the plans really are recorded at the same time.
    const wide = openPostgresLedger({ url, maxConnections: 40, applicationName: 'reservation race' });
    try {
      raced = await Promise.all(ids.map((id) => recordSettlement(wide.db, plan(id, [liquidityLeg(100n, reserved(1_000n, 50n))]))));
    } finally {
      await wide.close();
    }
    const recorded = raced.filter((r) => r.created);
    expect(recorded).toHaveLength(10);
    for (const r of recorded) expect(r.legIds).toHaveLength(1);
    const refused = raced.filter((r) => !r.created);
    expect(refused).toHaveLength(30);
    for (const r of refused) {
      expect(r).toMatchObject({ legIds: [], refused: { legIndex: 0, sourceChainId: GAMMA, source: 'vault', capacity: 1_000n, committed: 1_000n, requested: 100n } });
    }
    // A refused plan left nothing behind: no settlement, no leg.
    const { rows } = await db.execute<{ settlements: number; legs: number }>(
      sql`select (select count(*)::int from settlements) as settlements, (select count(*)::int from legs where source_chain_id = ${GAMMA}) as legs`,
    );
    expect(rows).toEqual([{ settlements: 10, legs: 10 }]);
    expect(await reservedOnSources(db, [{ ...VAULT, observedBlock: 50n }])).toEqual([1_000n]);
    expect((await readReport(db, 'reservations')).rows).toEqual([
      expect.objectContaining({ source_chain: 'gamma', source: 'vault', account: null, legs: 10, reserved_amount: '1000', pending_amount: '1000', burned_amount: '0' }),
    ]);
  });

  it('releases a reservation when its leg is credited, fails or is refunded, and not before', async () => {
    const [a, b, c, d, e] = raced.filter((r) => r.created).map((r) => r.legIds[0] as Hash);
    if (!a || !b || !c || !d || !e) throw new Error('fewer than five legs recorded');
    await walk(db, { legId: a, from: 'planned', steps: pathTo('delivered') });
    // Delivered, not credited: burned at a block the legs never said, so it still counts.
    expect(await reservedOnSources(db, [{ ...VAULT, observedBlock: 50n }])).toEqual([1_000n]);
    await walk(db, { legId: a, from: 'delivered', steps: [{ to: 'credited' }] });
    await walk(db, { legId: b, from: 'planned', steps: [{ to: 'failed', error: 'fee quote expired' }] });
    await walk(db, { legId: c, from: 'planned', steps: pathTo('refunded') });
    expect(await reservedOnSources(db, [{ ...VAULT, observedBlock: 50n }])).toEqual([700n]);
    // Sent at block 60: a capacity read at 60 or later already lacks its 100, one at 59 does not.
    await walk(db, { legId: d, from: 'planned', steps: [{ to: 'submitted' }, { to: 'sent', evidence: { blockNumber: 60n } }] });
    expect((await getLeg(db, d))?.sourceBlock).toBe(60n);
    expect(await reservedOnSources(db, [{ ...VAULT, observedBlock: 60n }, { ...VAULT, observedBlock: 59n }, { ...VAULT, observedBlock: 61n }])).toEqual([600n, 700n, 600n]);
    // Submitted is not burned yet: it counts at any block.
    await walk(db, { legId: e, from: 'planned', steps: [{ to: 'submitted' }] });
    expect(await reservedOnSources(db, [{ ...VAULT, observedBlock: 1_000n }])).toEqual([600n]);
    expect((await readReport(db, 'reservations')).rows).toEqual([
      expect.objectContaining({ source_chain: 'gamma', source: 'vault', legs: 7, reserved_amount: '700', pending_amount: '600', burned_amount: '100' }),
    ]);
  });

  it('plans into what was released, against a read at the right block', async () => {
    // Read at block 60 the vault shows 900 (d's 100 burned): 600 is committed there, so 300 fit.
    const ids = await shortfalls(4);
    const results = await recordSettlements(db, ids.map((id) => plan(id, [liquidityLeg(100n, reserved(900n, 60n))])));
    expect(results.map((r) => r.created)).toEqual([true, true, true, false]);
    expect(results[3]?.refused).toEqual({ legIndex: 0, sourceChainId: GAMMA, source: 'vault', capacity: 900n, committed: 900n, requested: 100n });
  });
});

describe('reservations within a batch', () => {
  it('walks the batch in order: a plan that does not fit is refused, the rest of the batch is recorded', async () => {
    const [a, b, c] = await shortfalls(3);
    const vault = { sourceChainId: BETA, destinationChainId: ALPHA, transport: 'layerzero' as const };
    const results = await recordSettlements(db, [
      plan(a as Hash, [liquidityLeg(600n, { ...vault, ...reserved(1_000n, 10n) })]),
      plan(b as Hash, [collateralLeg(50n, { sourceChainId: GAMMA, transport: 'wormhole' }), liquidityLeg(500n, { ...vault, ...reserved(1_000n, 10n) })]),
      plan(c as Hash, [liquidityLeg(400n, { ...vault, ...reserved(1_000n, 10n) })]),
    ]);
    expect(results.map((r) => r.created)).toEqual([true, false, true]);
    expect(results[1]).toEqual({
      settlementId: results[1]?.settlementId,
      legIds: [],
      created: false,
      refused: { legIndex: 1, sourceChainId: BETA, source: 'vault', capacity: 1_000n, committed: 600n, requested: 500n },
    });
    // The refused plan's other leg was not recorded either: a plan is recorded whole or not at all.
    expect(await reservedOnSources(db, [{ sourceChainId: GAMMA, source: 'surplus', account: accountOf(1), observedBlock: 0n }])).toEqual([0n]);
    expect(await reservedOnSources(db, [{ sourceChainId: BETA, source: 'vault', observedBlock: 10n }])).toEqual([1_000n]);
  });

  it('returns a plan already recorded as it was, even where it would not fit now', async () => {
    const [a, b] = await shortfalls(2);
    const vault = { sourceChainId: ALPHA, destinationChainId: BETA, transport: 'layerzero' as const };
    const first = await recordSettlement(db, plan(a as Hash, [liquidityLeg(700n, { ...vault, ...reserved(1_000n, 1n) })]));
    expect(first.created).toBe(true);
    await recordSettlement(db, plan(b as Hash, [liquidityLeg(300n, { ...vault, ...reserved(1_000n, 1n) })]));
    const again = await recordSettlement(db, plan(a as Hash, [liquidityLeg(700n, { ...vault, ...reserved(1_000n, 1n) })]));
    expect(again).toEqual({ ...first, created: false });
    // In one batch, a plan repeated takes its source once.
    const [c, other] = await shortfalls(2);
    const twice = plan(c as Hash, [liquidityLeg(100n, { ...vault, ...reserved(1_200n, 1n) })]);
    const results = await recordSettlements(db, [twice, twice, plan(other as Hash, [liquidityLeg(100n, { ...vault, ...reserved(1_200n, 1n) })])]);
    expect(results.map((r) => [r.created, r.legIds.length, r.refused === undefined])).toEqual([[true, 1, true], [false, 1, true], [true, 1, true]]);
  });

  it("counts a plan's own legs on one source together, and keeps each account's surplus apart", async () => {
    const [a, b] = await shortfalls(2);
    const surplus = reserved(150n, 3n);
    // Beta surplus of account 1 through both transports: 100 + 100 > 150.
    const split = await recordSettlement(db, plan(a as Hash, [collateralLeg(100n, surplus), collateralLeg(100n, { ...surplus, transport: 'wormhole' })]));
    expect(split.refused).toEqual({ legIndex: 1, sourceChainId: BETA, source: 'surplus', capacity: 150n, committed: 100n, requested: 100n });
    // Account 1 takes 150 of its own; account 2's surplus on the same chain is another source.
    expect((await recordSettlement(db, plan(a as Hash, [collateralLeg(150n, surplus)]))).created).toBe(true);
    const [mine] = await shortfalls(1, accountOf(2));
    expect((await recordSettlement(db, plan(mine as Hash, [collateralLeg(150n, { ...surplus, account: accountOf(2) })]))).created).toBe(true);
    expect(
      await reservedOnSources(db, [
        { sourceChainId: BETA, source: 'surplus', account: accountOf(1), observedBlock: 3n },
        { sourceChainId: BETA, source: 'surplus', account: accountOf(2), observedBlock: 3n },
      ]),
    ).toEqual([150n, 150n]);
    // A leg planned without a capacity read reserves all the same, and others are checked against it.
    await recordSettlement(db, plan(b as Hash, [collateralLeg(10n)]));
    const [c] = await shortfalls(1);
    expect((await recordSettlement(db, plan(c as Hash, [collateralLeg(1n, surplus)]))).refused).toMatchObject({ committed: 160n, requested: 1n });
  });

  it('refuses what cannot be a reservation before writing anything', async () => {
    const [a] = await shortfalls(1);
    const local: PlannedLeg = { kind: 'local', sourceChainId: ALPHA, destinationChainId: ALPHA, transport: null, account: accountOf(1), amount: 5n, relief: 5n, ...reserved(10n, 1n) };
    await expect(recordSettlement(db, plan(a as Hash, [local]))).rejects.toThrow('a local leg has no source to reserve');
    await expect(recordSettlement(db, plan(a as Hash, [collateralLeg(5n, reserved(-1n, 1n))]))).rejects.toBeInstanceOf(LedgerError);
    await expect(reservedOnSources(db, [{ sourceChainId: BETA, source: 'surplus', observedBlock: 1n }])).rejects.toThrow('names no account');
    expect(await reservedOnSources(db, [])).toEqual([]);
  });

  it('holds its source locks until its transaction ends, in a namespace of their own', async () => {
    const [a] = await shortfalls(1);
    const raw = await connect(url);
    try {
      await db.transaction(async (tx) => {
        await recordSettlement(tx, plan(a as Hash, [collateralLeg(1n, { sourceChainId: GAMMA, transport: 'wormhole', ...reserved(10n, 1n) })]));
        const { rows } = await raw.query<{ classid: number; n: number }>(
          `select classid::int, count(*)::int as n from pg_locks
           where locktype = 'advisory' and objsubid = 2 and database = (select oid from pg_database where datname = current_database())
           group by classid`,
        );
        expect(rows).toEqual([{ classid: RESERVATION_LOCK_NAMESPACE, n: 1 }]);
      });
      const { rows } = await raw.query(
        `select 1 from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`,
      );
      expect(rows).toEqual([]);
    } finally {
      await raw.end();
    }
  });
});

describe('relief', () => {
  it('is written with the leg, and fixed from then on', async () => {
    const [a] = await shortfalls(1);
    const { legIds } = await recordSettlement(db, plan(a as Hash, [collateralLeg(40n), liquidityLeg(30n, { relief: 95n }), { kind: 'local', sourceChainId: ALPHA, destinationChainId: ALPHA, transport: null, account: accountOf(1), amount: 20n, relief: 12n }]));
    const recorded = await Promise.all(legIds.map((id) => getLeg(db, id)));
    expect(recorded.map((leg) => [leg?.kind, leg?.amount, leg?.relief])).toEqual([['collateral', 40n, 40n], ['liquidity', 30n, 95n], ['local', 20n, 12n]]);
    await expect(db.execute(sql`update legs set relief = 1 where id = ${legIds[1]}`)).rejects.toMatchObject({ cause: { code: 'RL002' } });
  });

  it('is never negative, and a collateral leg relieves exactly what it moves', async () => {
    const [a, b] = await shortfalls(2);
    await expect(recordSettlement(db, plan(a as Hash, [liquidityLeg(30n, { relief: -1n })]))).rejects.toMatchObject({ cause: { constraint: 'legs_relief_check' } });
    await expect(recordSettlement(db, plan(b as Hash, [collateralLeg(30n, { relief: 31n })]))).rejects.toMatchObject({ cause: { constraint: 'legs_collateral_relief_check' } });
  });
});
