import { randomBytes } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { getAddress, type Hash } from 'viem';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeShortfall, legs, recordShortfall, settlements, shortfalls, type LedgerHandle } from '../../db/index.js';
import { startOrchestrator, type LegExecutor, type Orchestrator } from '../../relayer/orchestrator/orchestrator.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { shortfallRecord, shortfallReportSchema, type ShortfallReport } from '../../relayer/orchestrator/shortfall-report.js';
import { planSettlement } from '../../relayer/orchestrator/plan-settlement.js';
import type { OptionSource, SourcingOption } from '../../relayer/orchestrator/sourcing-option.js';
import { BETA, GAMMA, seedChains } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { syntheticReport } from './support/synthetic-report.js';

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

/** Collateral on beta is cheaper than on gamma; both can cover the shortfall alone. */
const collateral = (sourceChainId: number, sourceKey: string, rate: number): SourcingOption => ({
  kind: 'collateral',
  sourceChainId,
  sourceKey,
  transport: 'layerzero',
  capacity: 5_000_000_000n,
  fixedCostUsd: 1,
  latencySeconds: 10,
  cost: { type: 'linear', rate },
});

class FixedOptions implements OptionSource {
  calls = 0;
  failuresLeft = 0;
  constructor(private readonly options: readonly SourcingOption[]) {}
  async optionsFor(): Promise<readonly SourcingOption[]> {
    this.calls += 1;
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('RPC timed out (transient)');
    }
    return this.options;
  }
}

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

function start(params: { optionSource: OptionSource; legExecutor?: LegExecutor }): Orchestrator {
  const orchestrator = startOrchestrator({
    connection,
    prefix: `t-${randomBytes(4).toString('hex')}`,
    ledger: ledger.db,
    riskPerSecond: 0.01,
    ...params,
  });
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

describe('the orchestrator', () => {
  it('records the shortfall, plans the cheaper source, records its legs and runs them as one flow', async () => {
    const executor = new RecordingExecutor();
    const orchestrator = start({ optionSource: new FixedOptions([collateral(GAMMA, 'gamma', 0.004), collateral(BETA, 'beta', 0.001)]), legExecutor: executor });
    const shortfallId = await orchestrator.reportShortfall(report());
    await waitForSettle(orchestrator, 1);

    const [shortfall] = await ledger.db.select().from(shortfalls).where(eq(shortfalls.id, shortfallId));
    expect(shortfall?.requiredAmount).toBe(250_000_000n);
    const [settlement] = await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, shortfallId));
    expect(settlement?.coveredAmount).toBe(250_000_000n);
    const recorded = await ledger.db.select().from(legs).where(eq(legs.settlementId, settlement?.id ?? '0x'));
    expect(recorded.map((leg) => [leg.sourceChainId, leg.amount, leg.status])).toEqual([[BETA, 250_000_000n, 'planned']]);
    expect(executor.executed).toEqual(recorded.map((leg) => leg.id));
    expect(executor.delivered).toEqual(executor.executed);
    expect(recorded[0]?.deadline?.getTime()).toBeGreaterThan(Date.now());
  });

  it('turns one episode reported three times into one settlement and one run of each leg', async () => {
    const executor = new RecordingExecutor();
    const source = new FixedOptions([collateral(BETA, 'beta', 0.001)]);
    const orchestrator = start({ optionSource: source, legExecutor: executor });
    const repeated = report({ requiredAmount: '7000000000' }); // more than beta holds: a second leg is impossible, uncovered rest
    // The same episode however its addresses are spelled: lower case, checksummed, or neither.
    const checksummed = getAddress(repeated.account);
    const miscased = checksummed.replace(/[a-f]/, (c) => c.toUpperCase()); // a wrong checksum, the same address
    const spellings = [repeated, { ...repeated, account: checksummed }, { ...repeated, account: miscased, engine: repeated.engine.toLowerCase() }];
    const ids = await Promise.all(spellings.map((spelling) => orchestrator.reportShortfall(spelling)));
    expect(new Set(ids).size).toBe(1);
    await waitForSettle(orchestrator, 1);
    await orchestrator.reportShortfall(repeated);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const recordedSettlements = await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, ids[0] ?? '0x'));
    expect(recordedSettlements).toHaveLength(1);
    expect(recordedSettlements[0]?.coveredAmount).toBe(5_000_000_000n);
    expect(executor.executed).toHaveLength(1);
  });

  it('retries a transient failure and gives up at once on a malformed report, recording nothing', async () => {
    const source = new FixedOptions([collateral(BETA, 'beta', 0.001)]);
    source.failuresLeft = 1;
    const orchestrator = start({ optionSource: source, legExecutor: new RecordingExecutor() });
    await orchestrator.reportShortfall(report());
    await waitForSettle(orchestrator, 1);
    expect(source.calls).toBe(2);

    const bad = { ...report(), account: '0xnot-an-address' } as ShortfallReport;
    await orchestrator.queues.byName.shortfalls.add('shortfall', bad, { jobId: 'shortfall-bad' });
    for (let i = 0; i < 200 && (await orchestrator.queues.byName.shortfalls.getFailedCount()) === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    const [failed] = await orchestrator.queues.byName.shortfalls.getFailed();
    expect(failed?.failedReason).toMatch(/malformed shortfall report: account: must be a 0x-prefixed 20-byte hex address/);
    expect(failed?.attemptsMade).toBe(1);
    expect(await ledger.db.select().from(shortfalls).where(eq(shortfalls.account, bad.account as Hash))).toEqual([]);
  });

  it('a report the ledger refuses holds up only itself, not the reports recorded together with it', async () => {
    const executor = new RecordingExecutor();
    const orchestrator = start({ optionSource: new FixedOptions([collateral(BETA, 'beta', 0.001)]), legExecutor: executor });
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
    const source = new FixedOptions([collateral(BETA, 'beta', 0.001)]);
    const common = { connection, prefix, ledger: ledger.db, riskPerSecond: 0.01, optionSource: source };
    const intake = startOrchestrator({ ...common, run: ['shortfalls'] });
    running.push(intake);
    const [recovered, still] = await Promise.all([report(), report()].map((r) => intake.reportShortfall(r)));
    for (let i = 0; i < 200 && (await intake.queues.byName.plans.getWaitingCount()) < 2; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(await closeShortfall(ledger.db, { shortfallId: recovered ?? '0x', closedAt: new Date(), badDebt: 0n })).toBe(true);

    const planner = startOrchestrator({ ...common, run: ['plans', 'legs', 'deliveries'], legExecutor: new RecordingExecutor() });
    running.push(planner);
    await waitForSettle(planner, 1);
    const skipped = await planner.queues.byName.plans.getJob(`plan-${recovered}`);
    for (let i = 0; i < 200 && !(await skipped?.isCompleted()); i += 1) await new Promise((r) => setTimeout(r, 20));
    expect((await planner.queues.byName.plans.getJob(`plan-${recovered}`))?.returnvalue).toMatchObject({ skipped: 'the episode closed before it was planned' });
    expect(await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, recovered ?? '0x'))).toEqual([]);
    expect(await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, still ?? '0x'))).toHaveLength(1);
    expect(source.calls).toBe(1); // the closed episode's options were never read
  });

  it('finishes a plan recorded by an earlier run of its job: adds its flow, reads no options, plans nothing new', async () => {
    const recorded = report();
    const { shortfall } = await recordShortfall(ledger.db, shortfallRecord(shortfallReportSchema.parse(recorded)));
    const earlier = await planSettlement({ ledger: ledger.db, shortfallId: shortfall.id, report: recorded, options: [collateral(BETA, 'beta', 0.001)], riskPerSecond: 0.01, deadline: new Date(Date.now() + 3_600_000) });
    const source = new FixedOptions([collateral(GAMMA, 'gamma', 0.0001)]);
    source.failuresLeft = 100; // the RPC is down now: planning again would fail
    const executor = new RecordingExecutor();
    const orchestrator = start({ optionSource: source, legExecutor: executor });
    await orchestrator.queues.byName.plans.add('plan', recorded, { jobId: `plan-${shortfall.id}` });
    await waitForSettle(orchestrator, 1);
    expect(source.calls).toBe(0);
    expect(executor.executed).toEqual(earlier.legIds);
    expect(await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, shortfall.id))).toHaveLength(1);
  });

  it('closes gracefully: a leg in flight finishes, nothing is left active', async () => {
    const executor = new RecordingExecutor();
    executor.delayMs = 400;
    const orchestrator = start({ optionSource: new FixedOptions([collateral(BETA, 'beta', 0.001)]), legExecutor: executor });
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
    const orchestrator = startOrchestrator({
      connection,
      prefix: `t-${randomBytes(4).toString('hex')}`,
      ledger: ledger.db,
      riskPerSecond: 0,
      optionSource: new FixedOptions([]),
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
    running.push(orchestrator);
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
