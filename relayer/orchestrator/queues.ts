import { FlowProducer, Queue, type DefaultJobOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** The orchestrator's queues (DESIGN.md section 7). */
export const QUEUE_NAMES = ['shortfalls', 'plans', 'legs', 'deliveries', 'reconcile'] as const;
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
    close: () => (closing ??= Promise.allSettled([...Object.values(byName).map((queue) => queue.close()), flows.close()]).then(() => undefined)),
  };
}

/**
 * BullMQ job ids may not contain ':' (its key separator); ours are derived from ledger ids
 * (hex), so a repeat of the same fact is the same job.
 */
export const jobId = (kind: string, id: string): string => `${kind}-${id}`;
