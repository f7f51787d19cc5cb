import { Worker, type FlowJob, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Hash } from 'viem';
import { z } from 'zod';
import { episodeStates, openEpisodesAtRest, recordDecision, recordSettlements, recordShortfalls, type EpisodeState, type LedgerDatabase, type RecordSettlementParameters, type RecordSettlementReturnType } from '../../db/index.js';
import { RelayerError } from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { Plan } from '../planner/types.js';
import { fieldPath } from '../validation.js';
import { createBatcher } from './batcher.js';
import { jobProcessor } from './job-processor.js';
import type { WorldSource } from './chain-world.js';
import { revisionPlanner, type PolicySettings } from './revision-planner.js';
import { defaultJobOptions, jobId, openQueues, workerOptions, type QueueName, type Queues, type WorkerLocking } from './queues.js';
import { shortfallIdOfReport, shortfallRecord, shortfallReportSchema, type ParsedReport, type ShortfallReport } from './shortfall-report.js';
import { scheduleStuckLegSweeps, sweepStuckLegs, sweepSummary, type StuckLegSweeperOptions } from './stuck-leg-sweeper.js';

/** Moves legs on chain; each step is idempotent and throws to be retried. */
export interface LegExecutor {
  /** Sends the leg from its source (or, for a local leg, executes it). */
  sendLeg(legId: Hash): Promise<void>;
  /** Delivers the sent leg to its destination and records the credit. */
  deliverLeg(legId: Hash): Promise<void>;
}

export interface OrchestratorOptions {
  readonly connection: Redis;
  readonly prefix: string;
  readonly ledger: LedgerDatabase;
  /** What the chains show of an account and the value that could reach it. */
  readonly worldSource: WorldSource;
  readonly policy: PolicySettings;
  /** Each chain's key, for option ids. */
  readonly chainKeys: ReadonlyMap<number, string>;
  /** Absent: leg jobs are left for another node's workers (or a test's). */
  readonly legExecutor?: LegExecutor;
  /**
   * Every open episode with nothing in flight is looked at again this often (a failed or
   * refunded leg, a trigger lost in a crash); the watcher's reassessments come sooner.
   */
  readonly reviewEveryMs?: number;
  /** How long a leg may take to arrive before its destination refuses it. */
  readonly legDeadlineSeconds?: number;
  readonly concurrency?: Partial<Record<QueueName, number>>;
  /** Reconciliation, run as a repeatable job every `everyMs` (one run at a time across nodes). */
  readonly reconciler?: { readonly everyMs: number; run(): Promise<Record<string, unknown>> };
  /** The stuck-leg sweeper, a repeatable job every `everyMs`: re-drives legs whose job is gone or failed. */
  readonly stuckLegs?: StuckLegSweeperOptions;
  /** The backstop's unwinding (backstop-unwinder.ts), a repeatable job every `everyMs`, sized to the pools' recovery. */
  readonly unwinder?: { readonly everyMs: number; run(): Promise<unknown> };
  /** Told of every plan made (for metrics). */
  readonly onPlanned?: (plan: Plan) => void;
  /**
   * How long a job's lock lasts, how often stalled jobs (a worker that died holding one) go
   * back to waiting, and how many stalls fail a job; `workerLocking` in queues.ts by default.
   */
  readonly workerOptions?: WorkerLocking;
  /** Told of a worker's errors (Redis unreachable, a lost lock), for the node's metrics; they are logged too. */
  readonly onWorkerError?: (queue: QueueName, error: Error) => void;
  /** Every job's start, outcome and failure (job-processor.ts), and the workers' own errors; silent if absent. */
  readonly log?: Logger;
  /** Which workers this node runs (default: every queue it has what it needs for). */
  readonly run?: readonly QueueName[];
}

export interface Orchestrator {
  readonly queues: Queues;
  /** Resolves once the repeatable jobs (reconciliation) are scheduled. */
  readonly scheduled: Promise<unknown>;
  /** Adds a shortfall report; one job per episode however often it is reported. */
  reportShortfall(report: ShortfallReport): Promise<Hash>;
  /** Asks for the next decision on open episodes; one job per episode and cause. */
  requestPlans(requests: readonly PlanRequest[]): Promise<unknown>;
  /** Stops taking jobs, waits for those in flight, closes the queues; safe to call twice. */
  close(): Promise<void>;
}

function parseReport(data: unknown) {
  const parsed = shortfallReportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // A malformed report will not improve with retries.
    throw new RelayerError(`malformed shortfall report: ${fieldPath(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

const flowJobOptions = (kind: string, id: string) => ({ ...defaultJobOptions, jobId: jobId(kind, id) });

/** A reason to take the next decision on an open episode: its report, a settlement that ended, a reassessment. */
export interface PlanRequest {
  readonly shortfallId: Hash;
  /** Part of the job id: one job per episode and cause. */
  readonly cause: string;
}

const planRequestSchema = z.object({ shortfallId: z.string().regex(/^0x[0-9a-f]{64}$/) });

function parsePlanRequest(data: unknown): { shortfallId: Hash } {
  const parsed = planRequestSchema.safeParse(data);
  if (!parsed.success) throw new RelayerError(`malformed plan request: ${fieldPath(parsed.error.issues[0]?.path ?? [])}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return { shortfallId: parsed.data.shortfallId as Hash };
}

/**
 * One decision at a time per episode: a request while one waits is the same job, one while one
 * runs is kept (the latest) and runs after it. A burst of price rounds is one or two plans.
 */
const planDeduplication = (shortfallId: Hash) => ({ id: `plan-${shortfallId}`, keepLastIfActive: true });

interface SettlementFlow {
  readonly settlementId: Hash;
  readonly shortfallId: Hash;
  readonly legIds: readonly Hash[];
}

/**
 * A settlement's flow: each leg's `send` under its `deliver`, every leg under the `settle`. A
 * job that fails for good (its leg refused, or its attempts used up) does not hold its parent:
 * a `deliver` after a failed send finds the leg failed (or leaves it to the stuck-leg sweeper),
 * and the `settle` runs once every leg has ended one way or the other, so the episode is looked
 * at again the moment its settlement ends, credited or not.
 */
const childOptions = (kind: string, id: string) => ({ ...flowJobOptions(kind, id), ignoreDependencyOnFailure: true });

function settlementFlow(settlement: SettlementFlow): FlowJob {
  return {
    name: 'settle',
    queueName: 'legs',
    data: { settlementId: settlement.settlementId, shortfallId: settlement.shortfallId },
    opts: flowJobOptions('settle', settlement.settlementId),
    children: settlement.legIds.map((legId) => ({
      name: 'deliver',
      queueName: 'deliveries',
      data: { legId },
      opts: childOptions('deliver', legId),
      children: [{ name: 'send', queueName: 'legs', data: { legId }, opts: childOptions('send', legId) }],
    })),
  };
}

/**
 * The orchestrator's queues and workers, wired explicitly (DESIGN.md section 7):
 * `shortfalls` records the episode and asks for a plan; `plans` plans the cheapest sourcing,
 * records the settlement with its legs, and adds one flow per settlement. In a flow children
 * finish before their parent, so each leg is a `send` job (queue `legs`) under a `deliver` job
 * (queue `deliveries`) under the settlement's `settle` job: sent, then delivered and credited,
 * and the settlement completes when every leg has ended (credited, or failed for good).
 */
export function startOrchestrator(options: OrchestratorOptions): Orchestrator {
  const queues = openQueues({ connection: options.connection, prefix: options.prefix });
  const concurrency = (name: QueueName): number => options.concurrency?.[name] ?? 16;
  const runs = (name: QueueName): boolean => options.run?.includes(name) ?? true;
  const workers: Worker[] = [];
  const log = options.log ?? silentLogger();
  const worker = (name: QueueName, processor: (job: Job) => Promise<unknown>): void => {
    if (!runs(name)) return;
    const wrapped = jobProcessor({ queue: name, log, ledger: options.ledger, chainKeys: options.chainKeys }, processor);
    const created = new Worker(name, wrapped, workerOptions({ ...options.workerOptions, connection: options.connection, prefix: options.prefix, concurrency: concurrency(name) }));
    // Without a listener BullMQ prints every connection error while Redis is away.
    created.on('error', (error) => {
      log.warn({ at: `Worker::${name}`, err: error }, 'worker error');
      options.onWorkerError?.(name, error);
    });
    created.on('stalled', (job) => log.warn({ at: `Worker::${name}`, job }, 'job stalled: its worker stopped renewing the lock; back to waiting'));
    workers.push(created);
  };

  // Requests for the next decision on open episodes, in one round trip per batch.
  const requestPlans = createBatcher<PlanRequest, unknown>({
    maxSize: 500,
    maxInFlight: 2,
    run: async (requests) => {
      await queues.byName.plans.addBulk(requests.map(({ shortfallId, cause }) => ({ name: 'plan', data: { shortfallId }, opts: { jobId: jobId('plan', `${shortfallId}-${cause}`), deduplication: planDeduplication(shortfallId) } })));
      return requests.map(() => undefined);
    },
  });

  // Intake: the shortfalls that concurrent jobs took are recorded in one statement, and their
  // plan jobs added in one round trip.
  const recordIntake = createBatcher<{ report: ParsedReport; data: unknown }, Hash>({
    maxSize: 256,
    maxInFlight: 4,
    run: async (batch) => {
      const recorded = await recordShortfalls(options.ledger, batch.map(({ report }) => shortfallRecord(report)));
      await queues.byName.plans.addBulk(recorded.map(({ id }) => ({ name: 'plan', data: { shortfallId: id }, opts: { jobId: jobId('plan', id), deduplication: planDeduplication(id) } })));
      return recorded.map(({ id }) => id);
    },
  });
  worker('shortfalls', async (job) => ({ shortfallId: await recordIntake({ report: parseReport(job.data), data: job.data }) }));

  // Each plan job takes one decision from the core over a fresh snapshot; recording the
  // revisions and adding their flows is batched like the intake.
  const recordPlans = createBatcher<RecordSettlementParameters, RecordSettlementReturnType>({
    maxSize: 128,
    maxInFlight: 4,
    run: async (batch) => {
      const recorded = await recordSettlements(options.ledger, batch);
      await queues.flows.addBulk(recorded.flatMap((settlement, i) => (settlement.legIds.length > 0 ? [settlementFlow({ ...settlement, shortfallId: batch[i]?.shortfallId ?? settlement.settlementId })] : [])));
      return recorded;
    },
  });
  const episodeStateOf = createBatcher<Hash, EpisodeState | undefined>({
    maxSize: 256,
    maxInFlight: 4,
    run: async (ids) => {
      const states = await episodeStates(options.ledger, ids);
      return ids.map((id) => states.get(id));
    },
  });
  const addFlows = createBatcher<SettlementFlow, unknown>({ maxSize: 128, maxInFlight: 4, run: (batch) => queues.flows.addBulk(batch.map(settlementFlow)) });
  const planner = revisionPlanner({ ...options, recordPlans, recordDecision: (decision) => recordDecision(options.ledger, decision) });
  const reviewEveryMs = options.reviewEveryMs ?? 5_000;
  worker('plans', async (job) => {
    if (job.name === 'review') {
      // Episodes left with nothing in flight (a leg failed or was refunded, a trigger was lost).
      const ids = await openEpisodesAtRest(options.ledger, { quietMs: reviewEveryMs });
      const tick = Math.floor(Date.now() / reviewEveryMs);
      await Promise.all(ids.map((shortfallId) => requestPlans({ shortfallId, cause: `review-${tick}` })));
      return { reviewed: ids.length };
    }
    const { shortfallId } = parsePlanRequest(job.data);
    const state = await episodeStateOf(shortfallId);
    if (!state) throw new RelayerError(`shortfall ${shortfallId} is not in the ledger: nothing to plan`);
    // Revisions recorded but not finished get their flows (job ids make that idempotent): a job
    // retried after recording its plan finishes what it started.
    const active = state.revisions.filter((revision) => revision.active);
    if (active.length > 0) await Promise.all(active.map((revision) => addFlows({ settlementId: revision.settlementId, legIds: revision.legIds, shortfallId })));
    // An episode the watcher closed (the account recovered) needs nothing more.
    if (!state.open) return { shortfallId, skipped: 'the episode is closed' };
    return planner.planNext({ shortfallId, state });
  });

  const legExecutor = options.legExecutor;
  if (legExecutor) {
    worker('legs', async (job) => {
      if (job.name === 'settle') {
        // A settlement that ended is a reason to look at its episode again (DESIGN.md section 7b).
        const { settlementId, shortfallId } = job.data as { settlementId: Hash; shortfallId?: Hash };
        if (shortfallId) await requestPlans({ shortfallId, cause: `settled-${settlementId}` });
        return { settlementId };
      }
      await legExecutor.sendLeg((job.data as { legId: Hash }).legId);
      return undefined;
    });
    worker('deliveries', async (job) => {
      await legExecutor.deliverLeg((job.data as { legId: Hash }).legId);
      return undefined;
    });
  }

  const reconciler = options.reconciler;
  let scheduled: Promise<unknown> = runs('plans') ? queues.byName.plans.upsertJobScheduler('review', { every: reviewEveryMs }, { name: 'review' }) : Promise.resolve();
  if (reconciler) {
    worker('reconcile', () => reconciler.run());
    // A scheduler, not a job: re-upserting it from every node keeps one schedule.
    scheduled = Promise.all([scheduled, queues.byName.reconcile.upsertJobScheduler('reconcile', { every: reconciler.everyMs }, { name: 'reconcile' })]);
  }
  const unwinder = options.unwinder;
  if (unwinder) {
    worker('unwinds', () => unwinder.run());
    scheduled = Promise.all([scheduled, queues.byName.unwinds.upsertJobScheduler('unwind', { every: unwinder.everyMs }, { name: 'unwind', opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 1_000 } } })]);
  }
  const stuckLegs = options.stuckLegs;
  if (stuckLegs) {
    worker('sweeps', async () => sweepSummary(await sweepStuckLegs({ ...stuckLegs, ledger: options.ledger, queues })));
    scheduled = Promise.all([scheduled, scheduleStuckLegSweeps(queues, stuckLegs.everyMs)]);
  }

  // A price move breaches many accounts at once: their reports go to Redis in one round trip.
  const enqueueReport = createBatcher<ShortfallReport, Hash>({
    maxSize: 500,
    maxInFlight: 2,
    run: async (reports) => {
      const ids = reports.map(shortfallIdOfReport);
      await queues.byName.shortfalls.addBulk(reports.map((report, i) => ({ name: 'shortfall', data: report, opts: { jobId: jobId('shortfall', ids[i] ?? '') } })));
      return ids;
    },
  });

  let closing: Promise<void> | undefined;
  return {
    queues,
    scheduled,
    reportShortfall: enqueueReport,
    requestPlans: (requests) => Promise.all(requests.map(requestPlans)),
    close: () =>
      (closing ??= (async () => {
        await scheduled.catch((error: unknown) => log.warn({ at: 'Orchestrator::close', err: error }, 'scheduling the repeatable jobs had failed'));
        // Every close runs even if one fails: workers first (they drain), then the queues.
        const closed = await Promise.allSettled(workers.map((w) => w.close()));
        closed.forEach((result, i) => {
          if (result.status === 'rejected') log.error({ at: 'Orchestrator::close', queue: workers[i]?.name, err: result.reason }, 'closing a worker failed');
        });
        await queues.close();
      })()),
  };
}
