/**
 * Redis restarted mid-flow: work resumes. A private redis-server (AOF, fsync always) is stopped
 * with SIGTERM while settlement flows are active and restarted on the same port and directory;
 * every shortfall still ends with exactly one settlement whose flow completes, and close() returns.
 */
import { inArray } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legs, settlements, type LedgerHandle } from '../../db/index.js';
import { defaultPolicySettings } from '../../relayer/orchestrator/fixed-world.js';
import { startOrchestrator, type LegExecutor, type Orchestrator } from '../../relayer/orchestrator/orchestrator.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { isAlive } from '../chains/processes.js';
import { BETA, seedChains } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { until } from '../watcher/support.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { syntheticReport } from './support/synthetic-report.js';
import { collateralSource, SyntheticWorld } from './support/synthetic-world.js';

const SHORTFALLS = 20;

let ledger: LedgerHandle | undefined;
let cleanupLedger: (() => Promise<void>) | undefined;
let redis: RedisServer | undefined;
let connection: Redis | undefined;

beforeAll(async () => {
  const created = await createMigratedLedger();
  ledger = created.ledger;
  cleanupLedger = created.cleanup;
  await seedChains(ledger.db);
  redis = await startRedisServer();
  connection = createRedis(redis.url);
  // Refused connections while Redis is down are expected here; ioredis reconnects on its own.
  connection.on('error', () => undefined);
});

afterAll(async () => {
  connection?.disconnect();
  const pid = redis?.pid();
  await redis?.dispose();
  if (pid) expect(isAlive(pid)).toBe(false);
  await cleanupLedger?.();
});

/** Each account's surplus on beta, net of what the ledger reserved of it; the health of the synthetic reports. */
const options = () => {
  if (!ledger) throw new Error('setup failed');
  return {
    worldSource: new SyntheticWorld({ ledger: ledger.db, sources: [collateralSource({ chainId: BETA, key: 'beta', fixedCostUsd: 1 })] }),
    policy: defaultPolicySettings,
    chainKeys: new Map([[BETA, 'beta']]),
  };
};

/** Records every send; holds each send until released, so the restart lands while legs are active. */
class GatedExecutor implements LegExecutor {
  readonly sent: Hash[] = [];
  readonly delivered: Hash[] = [];
  private readonly held: (() => void)[] = [];
  private open = false;
  async sendLeg(legId: Hash): Promise<void> {
    this.sent.push(legId);
    if (!this.open) await new Promise<void>((resolve) => this.held.push(resolve));
  }
  async deliverLeg(legId: Hash): Promise<void> {
    if (!this.sent.includes(legId)) throw new Error(`delivering ${legId} before it was sent`);
    this.delivered.push(legId);
  }
  get heldCount(): number {
    return this.held.length;
  }
  /** Lets `count` held sends finish (all of them, and every later one, when omitted). */
  release(count?: number): void {
    if (count === undefined) this.open = true;
    for (const resolve of this.held.splice(0, count ?? this.held.length)) resolve();
  }
}



/** Rejects with `message` if `promise` has not settled after `ms` (a failure message, not a timing assertion). */
function bounded<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

describe('Redis restarted mid-flow', () => {
  it('work resumes: every shortfall settles exactly once, every flow completes, close returns', { timeout: 60_000 }, async () => {
    if (!redis || !connection || !ledger) throw new Error('setup failed');
    const server = redis;
    const db = ledger.db;
    const executor = new GatedExecutor();
    const orchestrator: Orchestrator = startOrchestrator({ connection, prefix: 'restart', ledger: db, ...options(), legExecutor: executor });
    let closed = false;
    try {
      const ids = await Promise.all(Array.from({ length: SHORTFALLS }, (_, i) => orchestrator.reportShortfall(syntheticReport(i + 1))));
      expect(new Set(ids).size).toBe(SHORTFALLS);

      // Mid-flow: sends are running (held) while other shortfalls are still being planned.
      await until('some legs are being sent', () => executor.heldCount >= 8);
      // The held sends finish just before SIGTERM, so their completions (and the fetch of the next
      // job that rides on each) race the shutdown: Redis may run them and exit without replying.
      executor.release(executor.heldCount);
      await new Promise((resolve) => setImmediate(resolve));
      await server.stop();
      await server.start();
      executor.release();

      // A job whose fetch ran twice stays active until its lock expires (see `workerLocking` in queues.ts).
      const settleDone = async () => (await orchestrator.queues.byName.legs.getJobs(['completed'])).filter((job) => job.name === 'settle');
      await until(`all ${SHORTFALLS} settle jobs completed`, async () => (await settleDone()).length >= SHORTFALLS);

      const recorded = await db.select().from(settlements).where(inArray(settlements.shortfallId, ids));
      expect(recorded).toHaveLength(SHORTFALLS);
      expect(new Set(recorded.map((s) => s.shortfallId))).toEqual(new Set(ids));
      const settled = (await settleDone()).map((job) => (job.data as { settlementId: Hash }).settlementId);
      expect(new Set(settled)).toEqual(new Set(recorded.map((s) => s.id)));

      const recordedLegs = await db.select().from(legs).where(inArray(legs.settlementId, recorded.map((s) => s.id)));
      expect(recordedLegs.length).toBeGreaterThanOrEqual(SHORTFALLS);
      for (const leg of recordedLegs) {
        expect(executor.sent).toContain(leg.id);
        expect(executor.delivered).toContain(leg.id);
      }

      for (const queue of Object.values(orchestrator.queues.byName)) expect(await queue.getFailedCount(), queue.name).toBe(0);

      await bounded(orchestrator.close(), 20_000, 'orchestrator.close() did not return after the restart');
      closed = true;
    } finally {
      // Never leave workers polling a server that afterAll stops.
      if (!closed) await bounded(orchestrator.close(), 5_000, 'close after failure').catch(() => undefined);
    }
  });

  it('close() returns when called while Redis is down, its workers waiting to reconnect', { timeout: 60_000 }, async () => {
    if (!redis || !connection || !ledger) throw new Error('setup failed');
    const server = redis;
    const executor = new GatedExecutor();
    executor.release();
    const orchestrator = startOrchestrator({ connection, prefix: 'down', ledger: ledger.db, ...options(), legExecutor: executor });
    const closing: { promise?: Promise<void> } = {};
    try {
      // One settlement through, so every worker is up and idle on its blocking connection.
      await orchestrator.reportShortfall(syntheticReport(1_000));
      await until('the settlement completed', async () => (await orchestrator.queues.byName.legs.getCompletedCount()) >= 2);
      await server.stop();
      await until('the client waits to reconnect', () => connection?.status === 'reconnecting');
      closing.promise = orchestrator.close();
      await server.start();
      await bounded(closing.promise, 20_000, 'orchestrator.close() called while Redis was down never returned');
    } finally {
      if (!closing.promise) await bounded(orchestrator.close(), 5_000, 'close after failure').catch(() => undefined);
    }
  });
});
