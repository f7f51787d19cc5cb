import { FlowProducer, Queue, type DefaultJobOptions, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * The orchestrator's queues (DESIGN.md section 7), and `sweeps`: the stuck-leg sweeper's
 * repeatable job (stuck-leg-sweeper.ts).
 */
export const QUEUE_NAMES = ['shortfalls', 'plans', 'legs', 'deliveries', 'reconcile', 'sweeps', 'unwinds'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/**
 * Retries back off exponentially; failed jobs stay for inspection; completed ones are trimmed.
 * A job that cannot succeed throws UnrecoverableError and ends its retries at once.
 */
export const defaultJobOptions: DefaultJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { count: 10_000 },
  removeOnFail: false,
};

/**
 * How the orchestrator's workers hold jobs. When Redis stops (SIGTERM, failover) it may run a
 * worker's last commands without sending the replies; ioredis re-sends them after reconnecting.
 * A fetch (`moveToActive`, or the fetch-next of `moveToFinished`) that ran twice leaves the first
 * job active, locked under the worker's token, and never processed: only its lock expiring and
 * the stalled check moving it back to waiting frees it, which with BullMQ's defaults (30 s lock,
 * 30 s check) stalls that settlement up to a minute. A short lock (renewed every few seconds
 * while a job runs) and a frequent check bound that to ~15 s. Each step is idempotent (a leg is
 * recovered from the chain, never re-sent blindly), so a job run again after a stall is safe;
 * a few stalls are allowed before a job fails, as one restart can stall a job once.
 */
export const workerLocking = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 3 } as const;

/** What a node may change of `workerLocking` (tests shorten it). */
export type WorkerLocking = { readonly lockDuration?: number; readonly stalledInterval?: number; readonly maxStalledCount?: number };

/** Options for an orchestrator Worker: `workerLocking` unless `overrides` say otherwise (tests). */
export function workerOptions(params: { connection: Redis; prefix: string; concurrency: number } & WorkerLocking): WorkerOptions {
  const { connection, prefix, concurrency, ...overrides } = params;
  const locking = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { ...workerLocking, ...locking, connection, prefix, concurrency, autorun: true };
}

export interface Queues {
  readonly byName: Readonly<Record<QueueName, Queue>>;
  readonly flows: FlowProducer;
  readonly prefix: string;
  /** Closes every queue and the flow producer; safe to call twice. */
  close(): Promise<void>;
}

/** Opens the queues under `prefix` (one prefix per deployment, or per test). */
export function openQueues(params: { connection: Redis; prefix: string }): Queues {
  const { connection, prefix } = params;
  const byName = Object.fromEntries(QUEUE_NAMES.map((name) => [name, new Queue(name, { connection, prefix, defaultJobOptions })])) as Record<QueueName, Queue>;
  const flows = new FlowProducer({ connection, prefix });
  let closing: Promise<void> | undefined;
  return {
    byName,
    flows,
    prefix,
    // Every close runs; one that failed is reported after, to be logged by the caller.
    close: () =>
      (closing ??= Promise.allSettled([...Object.values(byName).map((queue) => queue.close()), flows.close()]).then((results) => {
        const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
        if (failed.length > 0) throw new AggregateError(failed, `closing ${failed.length} queue(s) failed`);
      })),
  };
}

/**
 * BullMQ job ids may not contain ':' (its key separator); ours are derived from ledger ids
 * (hex), so a repeat of the same fact is the same job.
 */
export const jobId = (kind: string, id: string): string => `${kind}-${id}`;
