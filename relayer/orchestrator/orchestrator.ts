import { UnrecoverableError, Worker, type FlowJob, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Hash } from 'viem';
import { planStates, recordSettlements, recordShortfalls, type LedgerDatabase, type PlanState, type RecordSettlementReturnType } from '../../db/index.js';
import type { Plan } from '../planner/types.js';
import { fieldPath } from '../validation.js';
import { createBatcher } from './batcher.js';
import { settlementPlan, type SettlementPlan } from './plan-settlement.js';
import { defaultJobOptions, jobId, openQueues, workerOptions, type QueueName, type Queues, type WorkerLocking } from './queues.js';
import { shortfallIdOfReport, shortfallRecord, shortfallReportSchema, type ParsedReport, type ShortfallReport } from './shortfall-report.js';
import type { OptionSource } from './sourcing-option.js';

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
  readonly optionSource: OptionSource;
  /** Absent: leg jobs are left for another node's workers (or a test's). */
  readonly legExecutor?: LegExecutor;
  readonly riskPerSecond: number;
  /** How long a leg may take to arrive before its destination refuses it. */
  readonly legDeadlineSeconds?: number;
  readonly concurrency?: Partial<Record<QueueName, number>>;
  /** Reconciliation, run as a repeatable job every `everyMs` (one run at a time across nodes). */
  readonly reconciler?: { readonly everyMs: number; run(): Promise<Record<string, unknown>> };
  /** Told of every plan made (for metrics). */
  readonly onPlanned?: (plan: Plan) => void;
  /**
   * How long a job's lock lasts, how often stalled jobs (a worker that died holding one) go
   * back to waiting, and how many stalls fail a job; `workerLocking` in queues.ts by default.
   */
  readonly workerOptions?: WorkerLocking;
  /** Told of a worker's errors (Redis unreachable, a lost lock), for the node's log. */
  readonly onWorkerError?: (queue: QueueName, error: Error) => void;
  /** Which workers this node runs (default: every queue it has what it needs for). */
  readonly run?: readonly QueueName[];
}

export interface Orchestrator {
  readonly queues: Queues;
  /** Resolves once the repeatable jobs (reconciliation) are scheduled. */
  readonly scheduled: Promise<unknown>;
  /** Adds a shortfall report; one job per episode however often it is reported. */
  reportShortfall(report: ShortfallReport): Promise<Hash>;
  /** Stops taking jobs, waits for those in flight, closes the queues; safe to call twice. */
  close(): Promise<void>;
}

function parseReport(data: unknown) {
  const parsed = shortfallReportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // A malformed report will not improve with retries.
    throw new UnrecoverableError(`malformed shortfall report: ${fieldPath(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

const flowJobOptions = (kind: string, id: string) => ({ ...defaultJobOptions, jobId: jobId(kind, id) });

/** A settlement's flow: each leg's `send` under its `deliver`, every leg under the `settle`. */
function settlementFlow(settlement: { settlementId: Hash; legIds: readonly Hash[] }): FlowJob {
  return {
    name: 'settle',
    queueName: 'legs',
    data: { settlementId: settlement.settlementId },
    opts: flowJobOptions('settle', settlement.settlementId),
    children: settlement.legIds.map((legId) => ({
      name: 'deliver',
      queueName: 'deliveries',
      data: { legId },
      opts: flowJobOptions('deliver', legId),
      children: [{ name: 'send', queueName: 'legs', data: { legId }, opts: flowJobOptions('send', legId) }],
    })),
  };
}

/**
 * The orchestrator's queues and workers, wired explicitly (DESIGN.md section 7):
 * `shortfalls` records the episode and asks for a plan; `plans` plans the cheapest sourcing,
 * records the settlement with its legs, and adds one flow per settlement. In a flow children
 * finish before their parent, so each leg is a `send` job (queue `legs`) under a `deliver` job
 * (queue `deliveries`) under the settlement's `settle` job: sent, then delivered and credited,
 * and the settlement completes when every leg is credited.
 */
export function startOrchestrator(options: OrchestratorOptions): Orchestrator {
  const queues = openQueues({ connection: options.connection, prefix: options.prefix });
  const concurrency = (name: QueueName): number => options.concurrency?.[name] ?? 16;
  const runs = (name: QueueName): boolean => options.run?.includes(name) ?? true;
  const workers: Worker[] = [];
  const worker = (name: QueueName, processor: (job: Job) => Promise<unknown>): void => {
    if (!runs(name)) return;
    const created = new Worker(name, processor, workerOptions({ ...options.workerOptions, connection: options.connection, prefix: options.prefix, concurrency: concurrency(name) }));
    // Without a listener BullMQ prints every connection error while Redis is away.
    created.on('error', (error) => options.onWorkerError?.(name, error));
    workers.push(created);
  };

  // Intake: the shortfalls that concurrent jobs took are recorded in one statement, and their
  // plan jobs added in one round trip.
  const recordIntake = createBatcher<{ report: ParsedReport; data: unknown }, Hash>({
    maxSize: 256,
    maxInFlight: 4,
    run: async (batch) => {
      const recorded = await recordShortfalls(options.ledger, batch.map(({ report }) => shortfallRecord(report)));
      await queues.byName.plans.addBulk(batch.map(({ data }, i) => ({ name: 'plan', data, opts: { jobId: jobId('plan', recorded[i]?.id ?? '') } })));
      return recorded.map(({ id }) => id);
    },
  });
  worker('shortfalls', async (job) => ({ shortfallId: await recordIntake({ report: parseReport(job.data), data: job.data }) }));

  // Planning is per job (each reads its own options); recording the plans and adding their
  // flows is batched like the intake.
  const recordPlans = createBatcher<SettlementPlan, RecordSettlementReturnType>({
    maxSize: 128,
    maxInFlight: 4,
    run: async (batch) => {
      const recorded = await recordSettlements(options.ledger, batch.map(({ record }) => record));
      await queues.flows.addBulk(recorded.map(settlementFlow));
      return recorded;
    },
  });
  const planStateOf = createBatcher<Hash, PlanState | undefined>({
    maxSize: 256,
    maxInFlight: 4,
    run: async (ids) => {
      const states = await planStates(options.ledger, ids);
      return ids.map((id) => states.get(id));
    },
  });
  const addFlows = createBatcher<{ settlementId: Hash; legIds: readonly Hash[] }, unknown>({ maxSize: 128, maxInFlight: 4, run: (batch) => queues.flows.addBulk(batch.map(settlementFlow)) });
  worker('plans', async (job) => {
    const report = parseReport(job.data);
    const shortfallId = shortfallIdOfReport(report);
    const state = await planStateOf(shortfallId);
    if (!state) throw new UnrecoverableError(`shortfall ${shortfallId} is not in the ledger: nothing to plan`);
    // A retried job whose plan was recorded adds its flow (job ids make that idempotent), as planned then.
    if (state.settlement) {
      await addFlows(state.settlement);
      return { settlementId: state.settlement.settlementId, legs: state.settlement.legIds.length, recorded: 'before this run' };
    }
    // An episode the watcher closed (the account recovered) before its plan job ran needs no plan.
    if (!state.open) return { shortfallId, skipped: 'the episode closed before it was planned' };
    const planned = settlementPlan({
      shortfallId,
      report,
      options: await options.optionSource.optionsFor(report),
      riskPerSecond: options.riskPerSecond,
      deadline: new Date(Date.now() + (options.legDeadlineSeconds ?? 3_600) * 1_000),
    });
    const settlement = await recordPlans(planned);
    if (settlement.created) options.onPlanned?.(planned.plan);
    return { settlementId: settlement.settlementId, legs: settlement.legIds.length, uncovered: planned.plan.uncovered };
  });

  const legExecutor = options.legExecutor;
  if (legExecutor) {
    worker('legs', async (job) => {
      if (job.name === 'settle') return { settlementId: (job.data as { settlementId: Hash }).settlementId };
      await legExecutor.sendLeg((job.data as { legId: Hash }).legId);
      return undefined;
    });
    worker('deliveries', async (job) => {
      await legExecutor.deliverLeg((job.data as { legId: Hash }).legId);
      return undefined;
    });
  }

  const reconciler = options.reconciler;
  let scheduled: Promise<unknown> = Promise.resolve();
  if (reconciler) {
    worker('reconcile', () => reconciler.run());
    // A scheduler, not a job: re-upserting it from every node keeps one schedule.
    scheduled = queues.byName.reconcile.upsertJobScheduler('reconcile', { every: reconciler.everyMs }, { name: 'reconcile' });
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
    close: () =>
      (closing ??= (async () => {
        await scheduled.catch(() => undefined);
        // Every close runs even if one fails: workers first (they drain), then the queues.
        await Promise.allSettled(workers.map((w) => w.close()));
        await queues.close();
      })()),
  };
}
