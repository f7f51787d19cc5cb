import { UnrecoverableError, type Job } from 'bullmq';
import type { Hash } from 'viem';
import { getLeg, recordLegAttempt, type LedgerDatabase } from '../../db/index.js';
import { errorMessage, RelayerError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { QueueName } from './queues.js';

/** Whether another attempt can help: not for BullMQ's own final error, nor for a RelayerError that says so. */
export const isFinal = (error: unknown): boolean => error instanceof UnrecoverableError || (error instanceof RelayerError && !error.retryable);

/** The fixed keys a job's data gives its log lines. */
function jobKeys(job: Job): Record<string, unknown> {
  const data = (job.data ?? {}) as { legId?: unknown; shortfallId?: unknown; settlementId?: unknown };
  return {
    job: job.id,
    ...(typeof data.legId === 'string' ? { leg: data.legId } : {}),
    ...(typeof data.shortfallId === 'string' ? { shortfall: data.shortfallId } : {}),
    ...(typeof data.settlementId === 'string' ? { settlement: data.settlementId } : {}),
  };
}

export interface JobProcessorOptions {
  readonly queue: QueueName;
  readonly log: Logger;
  readonly ledger: LedgerDatabase;
  /** Chain keys by id, for the `chain` of a leg's failure. */
  readonly chainKeys: ReadonlyMap<number, string>;
}

/**
 * Wraps every worker's processor (STYLE.md habit 3): logs each job's start, outcome, duration and
 * attempt; a failure is logged with its cause chain and, for a leg's job, the leg's chain and
 * transaction. A final failure (non-retryable, or its attempts used up) of a leg's job is recorded
 * on the leg in the ledger unless the step already failed the leg; one without a leg is in the log.
 * A non-retryable error is rethrown as BullMQ's UnrecoverableError, so BullMQ stops retrying it.
 */
export function jobProcessor(options: JobProcessorOptions, process: (job: Job) => Promise<unknown>): (job: Job) => Promise<unknown> {
  const at = `Worker::${options.queue}`;
  return async (job) => {
    const keys = jobKeys(job);
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    const started = performance.now();
    options.log.debug({ at, ...keys, attempt, attempts }, 'job started');
    try {
      const result = await process(job);
      options.log.info({ at, ...keys, attempt, duration: Math.round(performance.now() - started) }, 'job done');
      return result;
    } catch (error) {
      const final = isFinal(error);
      const lastAttempt = final || attempt >= attempts;
      const duration = Math.round(performance.now() - started);
      const leg = typeof keys.leg === 'string' ? await legFailure({ ...options, legId: keys.leg as Hash, job, error, record: lastAttempt }) : {};
      const fields = { at, ...keys, ...leg, attempt, attempts, duration, retryable: !final, err: error };
      if (lastAttempt) options.log.error(fields, final ? 'job failed: not retryable' : 'job failed: attempts used up');
      else options.log.warn(fields, 'job failed; retrying');
      throw final && !(error instanceof UnrecoverableError) ? unrecoverable(error) : error;
    }
  };
}

/** BullMQ's final error carrying ours: its message for the job's failedReason, our stack and cause. */
function unrecoverable(error: unknown): UnrecoverableError {
  const final = new UnrecoverableError(errorMessage(error));
  final.cause = error;
  if (error instanceof Error && error.stack) final.stack = error.stack;
  return final;
}

/**
 * The leg's chain, settlement and transaction for the failure's log line and, when `record`,
 * why it failed for good on the leg itself (`attempts`, `last_error`). A leg the step already
 * moved to an end (failed, refunded, credited) carries its own event. A ledger that does not
 * answer must not hide the job's error: the lookup is left out, and said so in the line.
 */
async function legFailure(params: JobProcessorOptions & { legId: Hash; job: Job; error: unknown; record: boolean }): Promise<Record<string, unknown>> {
  try {
    const leg = await getLeg(params.ledger, params.legId);
    if (!leg) return {};
    const chainId = params.job.name === 'deliver' ? leg.destinationChainId : leg.sourceChainId;
    const tx = params.job.name === 'deliver' ? (leg.destinationTxHash ?? leg.sourceTxHash) : leg.sourceTxHash;
    const ended = leg.status === 'failed' || leg.status === 'refunded' || leg.status === 'credited';
    if (params.record && !ended) await recordLegAttempt(params.ledger, { legId: leg.id, status: leg.status, error: `${params.job.name} failed for good: ${errorMessage(params.error)}` });
    return { chain: params.chainKeys.get(chainId) ?? String(chainId), settlement: leg.settlementId, ...(tx ? { tx } : {}), status: leg.status, ...(params.record && !ended ? { recorded: true } : {}) };
  } catch (lookup) {
    return { legLookup: errorMessage(lookup) };
  }
}
