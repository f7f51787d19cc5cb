/**
 * An operator's retry and cancel of a leg over HTTP (a listening server, real Postgres and
 * Redis): bearer token first, then the id; a retry re-drives the leg's job once (a second
 * finds it alive), a cancel fails the leg through the state machine; both recorded in the
 * ledger; a credited leg refuses with 409 and its status.
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLeg, legOperatorActions, listLegEvents, type LedgerHandle } from '../../db/index.js';
import { buildApi } from '../../relayer/api/server.js';
import { createNodeMetrics, type NodeMetrics } from '../../relayer/metrics/node-metrics.js';
import { legOperator } from '../../relayer/orchestrator/leg-operator.js';
import { jobId, openQueues, type Queues } from '../../relayer/orchestrator/queues.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { ALPHA, BETA } from '../db/support/fixtures.js';
import { buildReportLedger } from '../db/support/report-fixture.js';
import { createMigratedLedger } from '../db/support/test-database.js';

const TOKEN = 'operator-token';
let ledger: LedgerHandle;
let cleanup: () => Promise<void>;
let ids: Awaited<ReturnType<typeof buildReportLedger>>;
let connection: Redis;
let queues: Queues;
let metrics: NodeMetrics;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  ({ ledger, cleanup } = await createMigratedLedger());
  ids = await buildReportLedger(ledger.db);
  connection = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  queues = openQueues({ connection, prefix: `legops-${randomBytes(4).toString('hex')}` });
  metrics = createNodeMetrics({ ledger: ledger.db, queues: [], defaults: false, chainKeys: new Map(), watchers: () => [] });
  app = await buildApi({
    ledger: ledger.db,
    chains: [
      { key: 'alpha', chainId: ALPHA },
      { key: 'beta', chainId: BETA },
    ],
    readiness: async () => ({ ready: true, checks: {} }),
    metrics: metrics.registry,
    adminToken: TOKEN,
    legOperator: legOperator({ ledger: ledger.db, queues, chainTime: async () => new Date() }),
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  metrics?.close();
  await app?.close();
  for (const queue of Object.values(queues?.byName ?? {})) {
    await queue.obliterate({ force: true });
    await queue.close();
  }
  connection?.disconnect();
  await cleanup?.();
});

/** `token` null: no authorization header at all. */
const post = async (path: string, token: string | null = TOKEN) => {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
const actionsOf = (legId: Hash) => ledger.db.select().from(legOperatorActions).where(eq(legOperatorActions.legId, legId)).orderBy(legOperatorActions.id);

describe('operator actions on a leg', () => {
  it('refuses without the bearer token (401), before looking at the id', async () => {
    for (const token of [null, 'wrong-token']) {
      expect(await post(`/v1/legs/${ids.t3l0}/retry`, token)).toMatchObject({ status: 401, body: { message: 'a bearer token is required' } });
      expect((await post(`/v1/legs/not-a-leg/cancel`, token)).status).toBe(401);
    }
    expect(await actionsOf(ids.t3l0)).toEqual([]);
  });

  it('refuses every operator action on a node with no token configured', async () => {
    const open = await buildApi({ ledger: ledger.db, chains: [], readiness: async () => ({ ready: true, checks: {} }), metrics: metrics.registry, legOperator: legOperator({ ledger: ledger.db, queues, chainTime: async () => new Date() }) });
    try {
      const response = await open.inject({ method: 'POST', url: `/v1/legs/${ids.t3l1}/cancel`, headers: { authorization: 'Bearer ' } });
      expect({ status: response.statusCode, message: (response.json() as { message: string }).message }).toEqual({ status: 401, message: 'operator actions are off: the node has no RELAYER_ADMIN_TOKEN' });
    } finally {
      await open.close();
    }
    expect((await getLeg(ledger.db, ids.t3l1))?.status).toBe('planned');
  });

  it('answers a bad id with 400 naming it, an unknown one with 404', async () => {
    for (const bad of ['0x12', `0x${'zz'.repeat(32)}`, "1'%20or%20'1'='1", `0x${'ab'.repeat(33)}`]) {
      const { status, body } = await post(`/v1/legs/${bad}/retry`);
      expect(status).toBe(400);
      expect(String(body.message)).toContain('params/id');
    }
    expect(await post(`/v1/legs/0x${'ab'.repeat(32)}/cancel`)).toMatchObject({ status: 404, body: { message: `no leg 0x${'ab'.repeat(32)}` } });
  });

  it('a retry of a credited leg answers 409 with its status and changes nothing', async () => {
    const before = await listLegEvents(ledger.db, ids.t1l0);
    const { status, body } = await post(`/v1/legs/${ids.t1l0}/retry`);
    expect(status).toBe(409);
    expect(body).toMatchObject({ status: 'credited', message: 'the leg is credited: there is nothing left to retry' });
    expect(await listLegEvents(ledger.db, ids.t1l0)).toEqual(before);
    expect(await post(`/v1/legs/${ids.t1l0}/cancel`)).toMatchObject({ status: 409, body: { status: 'credited' } });
    expect(await actionsOf(ids.t1l0)).toEqual([]);
  });

  it('a retry re-drives the leg job the queue lost, once; both tries are recorded', async () => {
    // t3l0 is delivered and has no job in this node's queues: its deliver job is added again.
    const first = await post(`/v1/legs/${ids.t3l0.toUpperCase().replace('0X', '0x')}/retry`);
    expect(first).toMatchObject({ status: 200, body: { status: 'delivered', action: { action: 'retry', legStatus: 'delivered', outcome: 'deliver job re-driven (it was gone)' } } });
    expect(await queues.byName.deliveries.getJobState(jobId('deliver', ids.t3l0))).toBe('waiting');
    const second = await post(`/v1/legs/${ids.t3l0}/retry`);
    expect(second).toMatchObject({ status: 200, body: { action: { outcome: 'its job is alive: left to run' } } });
    expect(await queues.byName.deliveries.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect((await actionsOf(ids.t3l0)).map((row) => [row.action, row.legStatus, row.outcome, row.operator.startsWith('api ')])).toEqual([
      ['retry', 'delivered', 'deliver job re-driven (it was gone)', true],
      ['retry', 'delivered', 'its job is alive: left to run', true],
    ]);
    expect((await getLeg(ledger.db, ids.t3l0))?.status).toBe('delivered');
  });

  it('a cancel fails a planned leg through the state machine, with the operator in its event; then a retry is refused', async () => {
    const { status, body } = await post(`/v1/legs/${ids.t3l1}/cancel`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'failed', action: { action: 'cancel', legStatus: 'planned', outcome: 'failed from planned' } });
    const leg = await getLeg(ledger.db, ids.t3l1);
    expect(leg).toMatchObject({ status: 'failed', failedFrom: 'planned' });
    const last = (await listLegEvents(ledger.db, ids.t3l1)).at(-1);
    expect(last).toMatchObject({ fromStatus: 'planned', toStatus: 'failed' });
    expect(last?.actor).toMatch(/^operator api /);
    expect(last?.error).toMatch(/^canceled by operator api /);
    expect(await post(`/v1/legs/${ids.t3l1}/cancel`)).toMatchObject({ status: 409, body: { status: 'failed' } });
    expect(await post(`/v1/legs/${ids.t3l1}/retry`)).toMatchObject({ status: 409, body: { status: 'failed' } });
    expect((await actionsOf(ids.t3l1)).map((row) => row.action)).toEqual(['cancel']);
  });

  it('the ledger refuses to rewrite an operator action', async () => {
    const [row] = await actionsOf(ids.t3l1);
    await expect(ledger.db.update(legOperatorActions).set({ outcome: 'nothing happened' }).where(eq(legOperatorActions.id, row?.id ?? 0n))).rejects.toThrow();
    await expect(ledger.db.delete(legOperatorActions)).rejects.toThrow();
  });
});
