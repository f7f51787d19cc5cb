import type { Hash } from 'viem';
import type { Orchestrator } from '../orchestrator/orchestrator.js';
import { jobId } from '../orchestrator/queues.js';
import type { ShortfallReport } from '../orchestrator/shortfall-report.js';

/** Where a watcher's reports go: the orchestrator's `shortfalls` queue in the node. */
export interface ShortfallSink {
  /** Adds the report; a repeat of the same episode is the same job (a no-op). */
  reportShortfall(report: ShortfallReport): Promise<Hash>;
  /**
   * Takes back the report of an episode that ended before anyone acted on it (the account
   * recovered, or a reorg removed the block that opened it). True when a waiting job was
   * removed; false when there was none or a worker has already taken it.
   */
  withdrawShortfall(shortfallId: Hash): Promise<boolean>;
  /** The account of an open episode changed (`cause`, e.g. the block): take the next decision on it. */
  reviewShortfall(shortfallId: Hash, cause: string): Promise<unknown>;
}

/** Job states in which nobody works on the job yet: it can still be removed. */
const UNTAKEN = new Set(['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children']);

/** The orchestrator's queue as a sink: reports through `reportShortfall`, withdrawals by job id. */
export function orchestratorSink(orchestrator: Pick<Orchestrator, 'queues' | 'reportShortfall' | 'requestPlans'>): ShortfallSink {
  const queue = orchestrator.queues.byName.shortfalls;
  return {
    reportShortfall: (report) => orchestrator.reportShortfall(report),
    reviewShortfall: (shortfallId, cause) => orchestrator.requestPlans([{ shortfallId, cause }]),
    async withdrawShortfall(shortfallId) {
      const job = await queue.getJob(jobId('shortfall', shortfallId));
      if (job === undefined || !UNTAKEN.has(await job.getState())) return false;
      try {
        await job.remove();
        return true;
      } catch (error) {
        // A worker may have locked it between the two calls: then it is taken, which is the answer.
        if (!UNTAKEN.has(await job.getState())) return false;
        throw error;
      }
    },
  };
}
