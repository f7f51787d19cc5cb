import { randomBytes } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { getAddress, type Hash } from 'viem';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeShortfall, legs, settlements, shortfalls, type LedgerHandle } from '../../db/index.js';
import type { WorldSource } from '../../relayer/orchestrator/chain-world.js';
import { defaultPolicySettings, fixedWorld } from '../../relayer/orchestrator/fixed-world.js';
import { startOrchestrator, type LegExecutor, type Orchestrator, type OrchestratorOptions } from '../../relayer/orchestrator/orchestrator.js';
import { jobId } from '../../relayer/orchestrator/queues.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import type { ShortfallReport } from '../../relayer/orchestrator/shortfall-report.js';
import { BETA, GAMMA, seedChains } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { recordRevision } from './support/record-revision.js';
import { syntheticReport } from './support/synthetic-report.js';
import { collateralSource, SyntheticWorld } from './support/synthetic-world.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let ledger: LedgerHandle;
let cleanupLedger: () => Promise<void>;
let connection: Redis;
const running: Orchestrator[] = [];

beforeAll(async () => {
  const created = await createMigratedLedger();
  ledger = created.ledger;
  cleanupLedger = created.cleanup;
  await seedChains(ledger.db);
  connection = createRedis(REDIS_URL);
});

afterEach(async () => {
  for (const orchestrator of running.splice(0)) {
    await orchestrator.close();
    await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));
  }
});

afterAll(async () => {
  connection?.disconnect();
  await cleanupLedger?.();
});

/** Surplus on beta costs less to move (gas and fee) than on gamma; each can cover a shortfall alone. */
const beta = collateralSource({ chainId: BETA, key: 'beta', fixedCostUsd: 1 });
const gamma = collateralSource({ chainId: GAMMA, key: 'gamma', fixedCostUsd: 4 });

/** Each account's own surplus on `sources`, net of what the ledger has reserved of it. */
const world = (...sources: ReturnType<typeof collateralSource>[]) => new SyntheticWorld({ ledger: ledger.db, sources });

class RecordingExecutor implements LegExecutor {
  readonly executed: Hash[] = [];
  readonly delivered: Hash[] = [];
  delayMs = 0;
  async sendLeg(legId: Hash): Promise<void> {
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.executed.push(legId);
  }
  async deliverLeg(legId: Hash): Promise<void> {
    // A flow delivers only what was sent: the send job is the delivery's child.
    if (!this.executed.includes(legId)) throw new Error(`delivering ${legId} before it was sent`);
    this.delivered.push(legId);
  }
}

let episode = 0;
const report = (overrides: Partial<ShortfallReport> = {}): ShortfallReport => syntheticReport((episode += 1), overrides);

/** What every orchestrator here shares: the node's default policy, the fixtures' chain keys. */
const common = (worldSource: WorldSource) => ({
  connection,
  ledger: ledger.db,
  worldSource,
  policy: defaultPolicySettings,
  chainKeys: new Map([[BETA, 'beta'], [GAMMA, 'gamma']]),
});

function start(params: { worldSource: WorldSource; legExecutor?: LegExecutor } & Partial<OrchestratorOptions>): Orchestrator {
  const orchestrator = startOrchestrator({ prefix: `t-${randomBytes(4).toString('hex')}`, ...common(params.worldSource), ...params });
  running.push(orchestrator);
  return orchestrator;
}

/** Waits until `count` settlement flows have completed (every leg, then the parent). */
async function waitForSettle(orchestrator: Orchestrator, count: number): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    const done = await orchestrator.queues.byName.legs.getJobs(['completed']);
    if (done.filter((job) => job.name === 'settle').length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`fewer than ${count} settlements completed`);
}

/** Waits until the plan job `id` has completed; its return value. */
async function planJobResult(orchestrator: Orchestrator, id: string): Promise<unknown> {
  for (let i = 0; i < 400; i += 1) {
    const job = await orchestrator.queues.byName.plans.getJob(id);
    if (job && (await job.isCompleted())) return job.returnvalue;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`plan job ${id} did not complete`);
}

/** Waits until the scheduled review's first run (at once when the orchestrator starts) has completed. */
async function reviewed(orchestrator: Orchestrator): Promise<void> {
  await orchestrator.scheduled;
  for (let i = 0; i < 400; i += 1) {
    if ((await orchestrator.queues.byName.plans.getJobs(['completed'])).some((job) => job.name === 'review')) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the review did not run');
}

/** The plan job a completed settlement asks for: its episode's next decision. */
async function followUpOf(orchestrator: Orchestrator, shortfallId: Hash): Promise<unknown> {
  const [settlement] = await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, shortfallId));
  return planJobResult(orchestrator, jobId('plan', `${shortfallId}-settled-${settlement?.id ?? '0x'}`));
}

describe('the orchestrator', () => {
  it('records the shortfall, plans the cheaper source, records its legs and runs them as one flow', async () => {
    const executor = new RecordingExecutor();
    const orchestrator = start({ worldSource: world(gamma, beta), legExecutor: executor });
    const shortfallId = await orchestrator.reportShortfall(report());
    await waitForSettle(orchestrator, 1);

    const [shortfall] = await ledger.db.select().from(shortfalls).where(eq(shortfalls.id, shortfallId));
    expect(shortfall?.requiredAmount).toBe(250_000_000n);
    const [settlement] = await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, shortfallId));
    expect(settlement?.coveredAmount).toBe(250_000_000n);
    const recorded = await ledger.db.select().from(legs).where(eq(legs.settlementId, settlement?.id ?? '0x'));
    expect(recorded.map((leg) => [leg.sourceChainId, leg.amount, leg.relief, leg.status])).toEqual([[BETA, 250_000_000n, 250_000_000n, 'planned']]);
    expect(executor.executed).toEqual(recorded.map((leg) => leg.id));
    expect(executor.delivered).toEqual(executor.executed);
    expect(recorded[0]?.deadline?.getTime()).toBeGreaterThan(Date.now());
    // The settlement that ended asks for the next decision: what is in flight covers the need.
    expect(await followUpOf(orchestrator, shortfallId)).toMatchObject({ decision: 'none', reason: 'in flight covers it' });
    expect(await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, shortfallId))).toHaveLength(1);
  });

  it('turns one episode reported three times into one settlement and one run of each leg', async () => {
    const executor = new RecordingExecutor();
    const orchestrator = start({ worldSource: world(beta), legExecutor: executor });
    const repeated = report({ requiredAmount: '7000000000' }); // more than beta holds: once it is reserved a second leg is impossible, uncovered rest
    // The same episode however its addresses are spelled: lower case, checksummed, or neither.
    const checksummed = getAddress(repeated.account);
    const miscased = checksummed.replace(/[a-f]/, (c) => c.toUpperCase()); // a wrong checksum, the same address
    const spellings = [repeated, { ...repeated, account: checksummed }, { ...repeated, account: miscased, engine: repeated.engine.toLowerCase() }];
    const ids = await Promise.all(spellings.map((spelling) => orchestrator.reportShortfall(spelling)));
    expect(new Set(ids).size).toBe(1);
    await waitForSettle(orchestrator, 1);
    await orchestrator.reportShortfall(repeated);
    // The settlement's end asked for the next decision: beta's surplus is all reserved, nothing more to plan.
    expect(await followUpOf(orchestrator, ids[0] ?? '0x')).toMatchObject({ decision: 'none', reason: 'no source can cover it', uncovered: '2000000000' });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const recordedSettlements = await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, ids[0] ?? '0x'));
    expect(recordedSettlements).toHaveLength(1);
    expect(recordedSettlements[0]?.coveredAmount).toBe(5_000_000_000n);
    expect(recordedSettlements[0]?.requiredAmount).toBe(7_000_000_000n);
    expect(executor.executed).toHaveLength(1);
  });

  it('retries a transient failure and gives up at once on a malformed report, recording nothing', async () => {
    const source = world(beta);
    source.failuresLeft = 1;
    // The scheduled review would plan the episode too while its job waits to be retried: out of the way here.
    const orchestrator = start({ worldSource: source, legExecutor: new RecordingExecutor(), reviewEveryMs: 1_000_000_000 });
    await reviewed(orchestrator);
    const shortfallId = await orchestrator.reportShortfall(report());
    await waitForSettle(orchestrator, 1);
    const planJob = await orchestrator.queues.byName.plans.getJob(jobId('plan', shortfallId));
    expect(planJob?.attemptsMade).toBe(2);
    expect(planJob?.returnvalue).toMatchObject({ decision: 'plan', legs: 1 });
    await followUpOf(orchestrator, shortfallId);
    // The failed read, its retry, and the next decision once the settlement ended: nothing else.
    expect(source.calls).toBe(3);

    const bad = { ...report(), account: '0xnot-an-address' } as ShortfallReport;
    await orchestrator.queues.byName.shortfalls.add('shortfall', bad, { jobId: 'shortfall-bad' });
    for (let i = 0; i < 200 && (await orchestrator.queues.byName.shortfalls.getFailedCount()) === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    const [failed] = await orchestrator.queues.byName.shortfalls.getFailed();
    expect(failed?.failedReason).toMatch(/malformed shortfall report: account: must be a 0x-prefixed 20-byte hex address/);
    expect(failed?.attemptsMade).toBe(1);
    expect(await ledger.db.select().from(shortfalls).where(eq(shortfalls.account, bad.account as Hash))).toEqual([]);

    // A plan request that names no shortfall will not improve with retries either.
    await orchestrator.queues.byName.plans.add('plan', { shortfallId: 'not a shortfall id' }, { jobId: 'plan-bad' });
    for (let i = 0; i < 200 && (await orchestrator.queues.byName.plans.getFailedCount()) === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    const [refusedPlan] = await orchestrator.queues.byName.plans.getFailed();
    expect(refusedPlan?.failedReason).toMatch(/malformed plan request: shortfallId/);
    expect(refusedPlan?.attemptsMade).toBe(1);
  });

  it('a report the ledger refuses holds up only itself, not the reports recorded together with it', async () => {
    const executor = new RecordingExecutor();
    const orchestrator = start({ worldSource: world(beta), legExecutor: executor });
    const good = Array.from({ length: 12 }, () => report());
    const unknownChain = report({ chainId: 424_242 }); // valid as a report, not a chain the ledger knows
    const ids = await Promise.all([...good.slice(0, 6), unknownChain, ...good.slice(6)].map((r) => orchestrator.reportShortfall(r)));
    await waitForSettle(orchestrator, good.length);

    const settled = await ledger.db.select().from(settlements).where(inArray(settlements.shortfallId, ids));
    expect(settled).toHaveLength(good.length);
    expect(settled.map((s) => s.shortfallId)).not.toContain(ids[6]);
    const refused = await orchestrator.queues.byName.shortfalls.getJob(`shortfall-${ids[6]}`);
    expect(await refused?.isFailed()).toBe(false); // retried with backoff, not lost
    expect(refused?.attemptsMade).toBeGreaterThanOrEqual(1);
    expect(refused?.failedReason).toMatch(/shortfalls/);
    expect(new Set(executor.executed).size).toBe(good.length);
  });

  it('does not plan an episode the watcher closed before its plan job ran', async () => {
    const prefix = `t-${randomBytes(4).toString('hex')}`;
    const source = world(beta);
    const intake = startOrchestrator({ ...common(source), prefix, run: ['shortfalls'] });
    running.push(intake);
    const [recoveredReport, stillReport] = [report(), report()];
    const [recovered, still] = await Promise.all([recoveredReport, stillReport].map((r) => intake.reportShortfall(r)));
    for (let i = 0; i < 200 && (await intake.queues.byName.plans.getWaitingCount()) < 2; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(await closeShortfall(ledger.db, { shortfallId: recovered ?? '0x', closedAt: new Date(), badDebt: 0n })).toBe(true);

    const planner = startOrchestrator({ ...common(source), prefix, run: ['plans', 'legs', 'deliveries'], legExecutor: new RecordingExecutor() });
    running.push(planner);
    await waitForSettle(planner, 1);
    expect(await planJobResult(planner, jobId('plan', recovered ?? '0x'))).toMatchObject({ skipped: 'the episode is closed' });
    expect(await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, recovered ?? '0x'))).toEqual([]);
    expect(await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, still ?? '0x'))).toHaveLength(1);
    // The closed episode's world was never read; the open one's was.
    expect(source.accounts.map((a) => a.toLowerCase())).not.toContain(recoveredReport?.account.toLowerCase());
    expect(source.accounts.map((a) => a.toLowerCase())).toContain(stillReport?.account.toLowerCase());
  });

  it('finishes a plan recorded by an earlier run of its job: adds its flow before reading the world, plans nothing new', async () => {
    const recorded = report();
    // The earlier run took its decision over beta and recorded it, then died before adding the flow.
    const earlier = await recordRevision({ ledger: ledger.db, report: recorded, worldSource: world(beta) });
    expect(earlier.legIds).toHaveLength(1);
    // Now a cheaper source is on offer, but the RPC is down: reading the world fails.
    const source = world(collateralSource({ chainId: GAMMA, key: 'gamma', fixedCostUsd: 0.1 }));
    source.failuresLeft = 100;
    const executor = new RecordingExecutor();
    const orchestrator = start({ worldSource: source, legExecutor: executor });
    const planJob = jobId('plan', earlier.shortfallId);
    await orchestrator.queues.byName.plans.add('plan', { shortfallId: earlier.shortfallId }, { jobId: planJob });
    await waitForSettle(orchestrator, 1);
    expect(executor.executed).toEqual(earlier.legIds);
    expect(source.calls).toBeGreaterThanOrEqual(1); // it did look, after adding the flow, and failed
    // The RPC is back: the retried job decides, and what it recorded before covers the need.
    source.failuresLeft = 0;
    expect(await planJobResult(orchestrator, planJob)).toMatchObject({ decision: 'none', reason: 'in flight covers it' });
    expect(executor.executed).toEqual(earlier.legIds);
    expect(await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, earlier.shortfallId))).toHaveLength(1);
  });

  it('closes gracefully: a leg in flight finishes, nothing is left active', async () => {
    const executor = new RecordingExecutor();
    executor.delayMs = 400;
    const orchestrator = start({ worldSource: world(beta), legExecutor: executor });
    await orchestrator.reportShortfall(report());
    for (let i = 0; i < 200 && (await orchestrator.queues.byName.legs.getActiveCount()) === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(await orchestrator.queues.byName.legs.getActiveCount()).toBe(1);
    await orchestrator.close();
    expect(executor.executed).toHaveLength(1);
    const counts = await orchestrator.queues.byName.legs.getJobCounts('active');
    expect(counts.active).toBe(0);
    await orchestrator.close(); // twice is fine
  });

  it('runs reconciliation as a repeatable job, one run at a time, until closed', async () => {
    let runs = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const orchestrator = start({
      worldSource: fixedWorld(),
      reconciler: {
        everyMs: 50,
        async run() {
          concurrent += 1;
          maxConcurrent = Math.max(maxConcurrent, concurrent);
          await new Promise((resolve) => setTimeout(resolve, 20));
          concurrent -= 1;
          runs += 1;
          return { runs };
        },
      },
      concurrency: { reconcile: 1 },
    });
    await orchestrator.scheduled;
    for (let i = 0; i < 200 && runs < 3; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(maxConcurrent).toBe(1);
    await orchestrator.close();
    const after = runs;
    await new Promise((r) => setTimeout(r, 200));
    expect(runs).toBe(after);
  });
});
