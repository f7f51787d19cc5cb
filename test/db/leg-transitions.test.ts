/**
 * The leg state machine against the real database: every edge, every non-edge (in code and,
 * bypassing the code, in the database), atomicity of a transition with its event, and races.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import { eq } from 'drizzle-orm';
import type pg from 'pg';
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerDatabase, LedgerHandle } from '../../db/client.js';
import { IllegalLegTransitionError, LedgerIntegrityError, LegNotFoundError } from '../../db/errors.js';
import {
  getLeg,
  listLegEvents,
  recordLegAttempt,
  recordSettlement,
  transitionLeg,
} from '../../db/ledger/index.js';
import { LEG_STATUSES, LEG_TRANSITIONS, REFUNDABLE_FAILED_FROM, isLegalTransition, type LegStatus } from '../../db/leg-state-machine.js';
import { legTransitions } from '../../db/schema/legs.js';
import * as schema from '../../db/schema/index.js';
import { BETA, collateralLeg, createPlan, hashOf, pathTo, seedChains, walk } from './support/fixtures.js';
import { connect, createMigratedLedger } from './support/test-database.js';

let ledger: LedgerHandle;
let db: LedgerDatabase;
let url: string;
let cleanup: () => Promise<void>;
let raw: pg.Client;

beforeAll(async () => {
  const created = await createMigratedLedger();
  ({ ledger, cleanup } = created);
  ({ db } = ledger);
  url = created.database.url;
  await seedChains(db);
  raw = await connect(url);
});

afterAll(async () => {
  await raw?.end();
  await cleanup?.();
});

let counter = 0;

/** A new leg walked (through the repository) to `status`. */
async function legAt(status: LegStatus): Promise<Hash> {
  counter += 1;
  const { legIds } = await createPlan(db, { legs: [collateralLeg(BigInt(1_000_000 + counter))] });
  const legId = legIds[0] as Hash;
  await walk(db, { legId, from: 'planned', steps: pathTo(status) });
  return legId;
}

async function sqlState(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code';
  }
}

/** Tries a raw status change, bypassing db/ledger, and rolls it back; returns the SQLSTATE or undefined if accepted. */
async function rawTransition(legId: Hash, to: LegStatus): Promise<string | undefined> {
  await raw.query('begin');
  try {
    return await sqlState(() => raw.query('update legs set status = $2, version = version + 1 where id = $1', [legId, to]));
  } finally {
    await raw.query('rollback');
  }
}

async function snapshot(legId: Hash) {
  const leg = await getLeg(db, legId);
  const events = await listLegEvents(db, legId);
  return { status: leg?.status, version: leg?.version, events: events.length };
}

describe('legal transitions', () => {
  const edges = LEG_STATUSES.flatMap((from) => LEG_TRANSITIONS[from].map((to) => [from, to] as const));

  it('the database holds exactly the edges of LEG_TRANSITIONS', async () => {
    const rows = await db.select().from(legTransitions);
    const inDb = rows.map((row) => `${row.fromStatus}->${row.toStatus}`).sort();
    expect(inDb).toEqual(edges.map(([from, to]) => `${from}->${to}`).sort());
  });

  it.each(edges)('%s -> %s applies and appends its event', async (from, to) => {
    const legId = await legAt(from);
    const before = await snapshot(legId);
    const txHash = hashOf(`tx ${legId} ${to}`);
    const result = await transitionLeg(db, {
      legId,
      from,
      to,
      evidence: { txHash, blockNumber: 42n, fee: 7n, occurredAt: new Date('2025-03-01T12:00:00Z') },
      ...(to === 'failed' ? { error: 'deadline passed' } : {}),
      actor: 'node-1',
    });
    expect(result.outcome).toBe('applied');
    if (result.outcome !== 'applied') return;
    expect(result.leg.status).toBe(to);
    expect(result.leg.version).toBe((before.version ?? 0) + 1);
    expect(result.event).toMatchObject({ legId, seq: result.leg.version, fromStatus: from, toStatus: to, txHash, blockNumber: 42n, fee: 7n, actor: 'node-1' });
    expect(result.event.occurredAt.toISOString()).toBe('2025-03-01T12:00:00.000Z');
    expect(await snapshot(legId)).toEqual({ status: to, version: result.leg.version, events: before.events + 1 });
    if (to === 'failed') expect(result.leg).toMatchObject({ failedFrom: from, lastError: 'deadline passed' });
    if (to === 'sent') expect(result.leg).toMatchObject({ sourceTxHash: txHash, sourceBlock: 42n });
    if (to === 'delivered') expect(result.leg).toMatchObject({ destinationTxHash: txHash, destinationBlock: 42n });
  });

  it('records the whole trail, seq 1 being the planning', async () => {
    const legId = await legAt('credited');
    const events = await listLegEvents(db, legId);
    expect(events.map((e) => [e.seq, e.fromStatus, e.toStatus])).toEqual([
      [1, null, 'planned'],
      [2, 'planned', 'submitted'],
      [3, 'submitted', 'sent'],
      [4, 'sent', 'verified'],
      [5, 'verified', 'delivered'],
      [6, 'delivered', 'credited'],
    ]);
  });

  it('puts the evidence on the chain that produced it', async () => {
    const legId = await legAt('sent');
    const sent = (await listLegEvents(db, legId)).find((e) => e.toStatus === 'sent');
    expect(sent?.chainId).toBeNull(); // walked without evidence: no chain claimed
    const [result] = await walk(db, { legId, from: 'sent', steps: [{ to: 'verified', evidence: { txHash: hashOf('dvn') } }] });
    expect(result?.outcome === 'applied' && result.event.chainId).toBe(1001); // verification happens on the destination
  });

  it('records a message id once, and refuses a different one later', async () => {
    const legId = await legAt('submitted');
    const guid = hashOf(`guid ${legId}`);
    await walk(db, { legId, from: 'submitted', steps: [{ to: 'sent', evidence: { message: { transport: 'layerzero', guid } } }] });
    expect((await getLeg(db, legId))?.messageId).toBe(guid);
    const other = { transport: 'layerzero', guid: hashOf('other') } as const;
    await expect(transitionLeg(db, { legId, from: 'sent', to: 'verified', evidence: { message: other } })).rejects.toBeInstanceOf(
      LedgerIntegrityError,
    );
    expect(await snapshot(legId)).toMatchObject({ status: 'sent', version: 3 });
  });
});

describe('illegal transitions', () => {
  const nonEdges = LEG_STATUSES.flatMap((from) =>
    LEG_STATUSES.filter((to) => !isLegalTransition(from, to)).map((to) => [from, to] as const),
  );
  const legs = new Map<LegStatus, Hash>();

  beforeAll(async () => {
    for (const status of LEG_STATUSES) legs.set(status, await legAt(status));
  });

  it.each(nonEdges)('%s -> %s is refused in code, before any write', async (from, to) => {
    const legId = legs.get(from) as Hash;
    const before = await snapshot(legId);
    const attempt = transitionLeg(db, { legId, from, to, error: 'x' });
    await expect(attempt).rejects.toBeInstanceOf(IllegalLegTransitionError);
    await expect(attempt).rejects.toThrow(`illegal transition to ${to}`);
    expect(await snapshot(legId)).toEqual(before);
  });

  it('the database refuses exactly the non-edges, whoever writes', async () => {
    const refused: string[] = [];
    for (const from of LEG_STATUSES) {
      for (const to of LEG_STATUSES) {
        if (to === from) continue;
        const code = await rawTransition(legs.get(from) as Hash, to);
        if (code !== undefined) {
          expect(code).toBe('RL001');
          refused.push(`${from}->${to}`);
        }
      }
    }
    const expected = LEG_STATUSES.flatMap((from) =>
      LEG_STATUSES.filter((to) => to !== from && !isLegalTransition(from, to)).map((to) => `${from}->${to}`),
    );
    expect(refused).toEqual(expected);
  });

  it('refunds only a leg that failed after the source burned the amount, in code and in the database', async () => {
    for (const failedFrom of ['planned', 'submitted', 'sent', 'verified'] as const) {
      const legId = await legAt(failedFrom);
      await walk(db, { legId, from: failedFrom, steps: [{ to: 'failed', error: 'gave up' }] });
      const owed = REFUNDABLE_FAILED_FROM.includes(failedFrom);
      expect(await rawTransition(legId, 'refunded')).toBe(owed ? undefined : 'RL001');
      const attempt = transitionLeg(db, { legId, from: 'failed', to: 'refunded' });
      if (owed) {
        await expect(attempt).resolves.toMatchObject({ outcome: 'applied' });
      } else {
        await expect(attempt).rejects.toThrow(/nothing left its source chain/);
        expect((await getLeg(db, legId))?.status).toBe('failed');
      }
    }
  });

  it('the database decides what a leg failed from, whatever the writer claims', async () => {
    const legId = await legAt('submitted');
    await raw.query('begin');
    await raw.query(`update legs set status = 'failed', version = 3, failed_from = 'sent', last_error = 'x' where id = $1`, [legId]);
    await raw.query(`insert into leg_events (leg_id, seq, from_status, to_status) values ($1, 3, 'submitted', 'failed')`, [legId]);
    await raw.query('commit');
    expect((await getLeg(db, legId))?.failedFrom).toBe('submitted');
    expect(await rawTransition(legId, 'refunded')).toBe('RL001');
  });

  it('fails only with a reason', async () => {
    const legId = await legAt('submitted');
    await expect(transitionLeg(db, { legId, from: 'submitted', to: 'failed' })).rejects.toThrow(/must say why/);
  });

  it('reports an unknown leg as such', async () => {
    await expect(transitionLeg(db, { legId: hashOf('no such leg'), from: 'planned', to: 'submitted' })).rejects.toBeInstanceOf(
      LegNotFoundError,
    );
  });

  it('keeps what a leg moves, and for whom, fixed; and a final leg frozen', async () => {
    const planned = await legAt('planned');
    expect(await sqlState(() => raw.query('update legs set amount = amount + 1 where id = $1', [planned]))).toBe('RL002');
    expect(await sqlState(() => raw.query('update legs set version = 7 where id = $1', [planned]))).toBe('RL002');
    const credited = await legAt('credited');
    expect(await sqlState(() => raw.query(`update legs set last_error = 'late' where id = $1`, [credited]))).toBe('RL002');
    expect(await recordLegAttempt(db, { legId: credited, status: 'credited', error: 'late' }).catch((e: unknown) => e)).toBeInstanceOf(Error);
  });
});

describe('a transition and its event commit together or not at all', () => {
  it('an event that cannot be written takes the status change down with it', async () => {
    const legId = await legAt('sent');
    const before = await snapshot(legId);
    // The leg update succeeds; the event insert then breaks a CHECK (malformed block hash).
    await expect(
      transitionLeg(db, { legId, from: 'sent', to: 'verified', evidence: { blockHash: '0xnot-a-hash' as Hash } }),
    ).rejects.toThrow();
    expect(await snapshot(legId)).toEqual(before);
  });

  it('a worker dying after the transition, before commit, leaves neither visible', async () => {
    const legId = await legAt('submitted');
    const before = await snapshot(legId);
    const client = await connect(url);
    client.on('error', () => undefined);
    const workerDb = drizzle(client, { schema });
    const crashed = workerDb.transaction(async (tx) => {
      const result = await transitionLeg(tx, { legId, from: 'submitted', to: 'sent', evidence: { txHash: hashOf('mined') } });
      expect(result.outcome).toBe('applied');
      // Both rows are written in this open transaction; now the process "dies".
      await tx.execute('select pg_terminate_backend(pg_backend_pid())');
    });
    await expect(crashed).rejects.toThrow();
    await client.end().catch(() => undefined);
    expect(await snapshot(legId)).toEqual(before);
  });

  it('a caller rolling back its own transaction rolls back the transition', async () => {
    const legId = await legAt('planned');
    const before = await snapshot(legId);
    await expect(
      db.transaction(async (tx) => {
        await transitionLeg(tx, { legId, from: 'planned', to: 'submitted' });
        throw new Error('enqueue failed');
      }),
    ).rejects.toThrow('enqueue failed');
    expect(await snapshot(legId)).toEqual(before);
  });

  it('the database refuses to commit a status change without its event', async () => {
    const legId = await legAt('planned');
    const before = await snapshot(legId);
    await raw.query('begin');
    await raw.query(`update legs set status = 'submitted', version = 2 where id = $1`, [legId]);
    expect(await sqlState(() => raw.query('commit'))).toBe('RL004');
    expect(await snapshot(legId)).toEqual(before);
  });

  it('the database refuses an event that does not match its leg', async () => {
    const legId = await legAt('submitted');
    const forge = (seq: number, from: string, to: string) =>
      sqlState(() => raw.query('insert into leg_events (leg_id, seq, from_status, to_status) values ($1, $2, $3, $4)', [legId, seq, from, to]));
    expect(await forge(3, 'submitted', 'sent')).toBe('RL005'); // the leg is not sent
    expect(await forge(2, 'planned', 'failed')).toBe('RL005'); // the leg is not failed
    expect(await forge(2, 'planned', 'submitted')).toBe('23505'); // that event exists: unique (leg_id, seq)
  });
});

describe('racing workers', () => {
  it('of eight workers making the same transition, exactly one wins', async () => {
    const legId = await legAt('planned');
    const workers = Array.from({ length: 8 }, (_, i) =>
      transitionLeg(db, { legId, from: 'planned', to: 'submitted', evidence: { txHash: hashOf(`worker ${i}`) }, actor: `w${i}` }),
    );
    const results = await Promise.all(workers);
    const winners = results.filter((r) => r.outcome === 'applied');
    const losers = results.filter((r) => r.outcome === 'lost');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(7);
    for (const loser of losers) expect(loser).toMatchObject({ outcome: 'lost', current: 'submitted' });
    const events = await listLegEvents(db, legId);
    expect(events.map((e) => e.toStatus)).toEqual(['planned', 'submitted']);
    const winner = winners[0];
    expect(winner?.outcome === 'applied' && (await getLeg(db, legId))?.sourceTxHash).toBe(
      winner?.outcome === 'applied' ? winner.event.txHash : 'no winner',
    );
  });

  it('a worker blocked behind another one learns, once it commits, that it lost', async () => {
    const legId = await legAt('sent');
    const client = await connect(url);
    try {
      const first = drizzle(client, { schema });
      let second: Promise<unknown> | undefined;
      await first.transaction(async (tx) => {
        const won = await transitionLeg(tx, { legId, from: 'sent', to: 'verified', evidence: { txHash: hashOf('dvn') } });
        expect(won.outcome).toBe('applied');
        // The other worker wants to fail the leg from `sent`; it must wait for our row lock.
        second = transitionLeg(db, { legId, from: 'sent', to: 'failed', error: 'timed out' });
        await waitForLockWaiter(client);
      });
      await expect(second).resolves.toMatchObject({ outcome: 'lost', current: 'verified' });
    } finally {
      await client.end();
    }
    expect((await listLegEvents(db, legId)).map((e) => e.toStatus)).toEqual(['planned', 'submitted', 'sent', 'verified']);
  });

  it('a retried transition that already happened reports the status it found', async () => {
    const legId = await legAt('delivered');
    await expect(transitionLeg(db, { legId, from: 'delivered', to: 'credited' })).resolves.toMatchObject({ outcome: 'applied' });
    await expect(transitionLeg(db, { legId, from: 'delivered', to: 'credited' })).resolves.toMatchObject({
      outcome: 'lost',
      current: 'credited',
    });
  });

  async function waitForLockWaiter(client: pg.Client): Promise<void> {
    for (let i = 0; i < 500; i += 1) {
      const { rows } = await client.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
      );
      if ((rows[0]?.n ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the second worker never waited for the row lock');
  }
});

describe('recording', () => {
  it('recording the same plan twice changes nothing', async () => {
    const first = await createPlan(db, { legs: [collateralLeg(5n), collateralLeg(6n, { sourceChainId: BETA })] });
    const again = await recordSettlement(db, {
      shortfallId: first.shortfallId,
      revision: 0,
      requiredAmount: 11n,
      coveredAmount: 11n,
      plannedCostUsd: '1.5',
      plan: {},
      legs: [collateralLeg(5n), collateralLeg(6n)],
    });
    expect(again).toEqual({ settlementId: first.settlementId, legIds: first.legIds, created: false });
    for (const legId of first.legIds) expect(await listLegEvents(db, legId)).toHaveLength(1);
  });

  it('counts attempts on the current step, only while the leg is still there', async () => {
    const legId = await legAt('submitted');
    expect(await recordLegAttempt(db, { legId, status: 'submitted', error: 'nonce too low', sourceTxHash: hashOf('bump') })).toBe(1);
    expect(await recordLegAttempt(db, { legId, status: 'submitted', error: 'underpriced' })).toBe(2);
    expect(await recordLegAttempt(db, { legId, status: 'sent', error: 'x' })).toBeUndefined();
    const leg = await getLeg(db, legId);
    expect(leg).toMatchObject({ attempts: 2, lastError: 'underpriced', sourceTxHash: hashOf('bump'), version: 2 });
    expect(await db.select().from(schema.legEvents).where(eq(schema.legEvents.legId, legId))).toHaveLength(2);
  });
});
