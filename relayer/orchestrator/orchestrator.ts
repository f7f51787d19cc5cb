import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Hash } from 'viem';
import { recordShortfall, type LedgerDatabase } from '../../db/index.js';
import type { Plan } from '../planner/types.js';
import { fieldPath } from '../validation.js';
import { planSettlement } from './plan-settlement.js';
import { defaultJobOptions, jobId, openQueues, type QueueName, type Queues } from './queues.js';
import { shortfallIdOfReport, shortfallRecord, shortfallReportSchema, type ShortfallReport } from './shortfall-report.js';
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
    workers.push(new Worker(name, processor, { connection: options.connection, prefix: options.prefix, concurrency: concurrency(name), autorun: true }));
  };

  worker('shortfalls', async (job) => {
    const report = parseReport(job.data);
    const { shortfall } = await recordShortfall(options.ledger, shortfallRecord(report));
    await queues.byName.plans.add('plan', job.data, { jobId: jobId('plan', shortfall.id) });
    return { shortfallId: shortfall.id };
  });

  worker('plans', async (job) => {
    const report = parseReport(job.data);
    const shortfallId = shortfallIdOfReport(report);
    const sourcing = await options.optionSource.optionsFor(report);
    const settlement = await planSettlement({
      ledger: options.ledger,
      shortfallId,
      report,
      options: sourcing,
      riskPerSecond: options.riskPerSecond,
      deadline: new Date(Date.now() + (options.legDeadlineSeconds ?? 3_600) * 1_000),
    });
    if (settlement.created) options.onPlanned?.(settlement.plan);
    const opts = (kind: string, id: string) => ({ ...defaultJobOptions, jobId: jobId(kind, id) });
    await queues.flows.add({
      name: 'settle',
      queueName: 'legs',
      data: { settlementId: settlement.settlementId },
      opts: opts('settle', settlement.settlementId),
      children: settlement.legIds.map((legId) => ({
        name: 'deliver',
        queueName: 'deliveries',
        data: { legId },
        opts: opts('deliver', legId),
        children: [{ name: 'send', queueName: 'legs', data: { legId }, opts: opts('send', legId) }],
      })),
    });
    return { settlementId: settlement.settlementId, legs: settlement.legIds.length, uncovered: settlement.plan.uncovered };
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

  let closing: Promise<void> | undefined;
  return {
    queues,
    scheduled,
    async reportShortfall(report) {
      const shortfallId = shortfallIdOfReport(report);
      await queues.byName.shortfalls.add('shortfall', report, { jobId: jobId('shortfall', shortfallId) });
      return shortfallId;
    },
    close: () =>
      (closing ??= (async () => {
        await scheduled.catch(() => undefined);
        // Every close runs even if one fails: workers first (they drain), then the queues.
        await Promise.allSettled(workers.map((w) => w.close()));
        await queues.close();
      })()),
  };
}
