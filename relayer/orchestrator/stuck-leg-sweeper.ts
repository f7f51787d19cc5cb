import type { Job, Queue } from 'bullmq';
import type { Hash } from 'viem';
import { legsInStatus, type LedgerDatabase, type LegInProgress, type LegStatus } from '../../db/index.js';
import { errorMessage, RelayerError } from '../errors.js';
import { chainOf, type ExecutionContext } from '../execution/execution-context.js';
import { jobId, type Queues } from './queues.js';

/** What the sweeper runs every so often, and how it tells time on a leg's destination. */
export interface StuckLegSweeperOptions {
  readonly everyMs: number;
  /**
   * The time on a chain (its head's timestamp): a leg's deadline is its destination vault's to
   * judge. Default: this machine's clock.
   */
  readonly chainTime?: (chainId: number) => Promise<Date>;
  /** Legs read from the ledger at a time. */
  readonly pageSize?: number;
}

/** A leg whose job the sweeper found gone or failed, and started again. */
export interface RedrivenLeg {
  readonly legId: Hash;
  readonly status: LegStatus;
  readonly job: 'send' | 'deliver';
  readonly was: 'failed' | 'gone';
}

export interface SweepResult {
  /** Legs in progress the sweep looked at. */
  readonly checked: number;
  readonly redriven: readonly RedrivenLeg[];
  /** Legs past their deadline with no live job: left to reconciliation, which refunds them. */
  readonly expired: readonly Hash[];
  /** Legs this sweep could not judge (their destination's clock did not answer): the next sweep tries again. */
  readonly skipped: readonly { readonly legId: Hash; readonly reason: string }[];
}

/** The statuses a job still has to move a leg out of: `send` for submitted, `deliver` after. */
const IN_PROGRESS: readonly LegStatus[] = ['submitted', 'sent', 'verified', 'delivered'];
/** Not yet executed on the destination: its deadline can still run out. */
const UNDELIVERED: readonly LegStatus[] = ['sent', 'verified'];

/** The sweeper's schedule on the `sweeps` queue; re-upserting it from every node keeps one. */
export function scheduleStuckLegSweeps(queues: Queues, everyMs: number): Promise<unknown> {
  return queues.byName.sweeps.upsertJobScheduler('stuck-legs', { every: everyMs }, { name: 'sweep', opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 1_000 } } });
}

/**
 * The stuck-work sweeper. Postgres is the truth and BullMQ only schedules work (DESIGN.md
 * section 7), so a leg in progress whose job is gone (Redis lost it, someone removed it) or
 * failed (its attempts used up, say while the VAA source was down) would stay where it is for
 * good. Each sweep holds every leg in progress against its job and re-drives the stuck ones:
 * - `submitted`: its `send` job. The send step first looks for the leg's transaction on chain
 *   (a worker that died after sending), so a re-drive never burns twice; past the deadline it
 *   records the send it finds, or the vault refuses a late send and the leg fails with
 *   nothing burned. So a submitted leg is re-driven whatever its deadline.
 * - `sent`, `verified`: its `deliver` job, until the leg's deadline on its destination. After
 *   it the destination can never execute the leg: it is left to reconciliation's refund path
 *   (relayer/reconcile/refund-leg.ts) and reported as `expired`.
 * - `delivered`: its `deliver` job, which only reads the credit back from the chain.
 * A failed job is retried with its attempts afresh, in its flow, so its settlement completes
 * when it does; a gone one is added again under its id (alone: its flow is gone too). A job
 * waiting, delayed, running or waiting for its send is left alone, and so is a completed one.
 */
export async function sweepStuckLegs(params: { ledger: LedgerDatabase; queues: Queues } & Omit<StuckLegSweeperOptions, 'everyMs'>): Promise<SweepResult> {
  const { queues } = params;
  const pageSize = params.pageSize ?? 500;
  const clocks = new Map<number, Promise<Date>>();
  const now = (chainId: number): Promise<Date> => {
    let clock = clocks.get(chainId);
    if (!clock) {
      clock = params.chainTime ? params.chainTime(chainId) : Promise.resolve(new Date());
      clocks.set(chainId, clock);
    }
    return clock;
  };
  const redriven: RedrivenLeg[] = [];
  const expired: Hash[] = [];
  const skipped: { legId: Hash; reason: string }[] = [];
  let checked = 0;
  for (let afterId: Hash | undefined; ; ) {
    const page = await legsInStatus(params.ledger, { statuses: IN_PROGRESS, limit: pageSize, ...(afterId ? { afterId } : {}) });
    checked += page.length;
    // One chain's RPC down must not keep the legs of the others stuck.
    const clockless = (chainId: number) => now(chainId).catch((cause: unknown) => Promise.reject(new ClockError(chainId, cause)));
    const outcomes = await Promise.all(page.map((leg) => redriveLeg({ leg, queues, now: clockless }).catch((error: unknown) => (error instanceof ClockError ? error : Promise.reject(error)))));
    for (const [i, outcome] of outcomes.entries()) {
      const leg = page[i] as LegInProgress;
      if (outcome instanceof ClockError) skipped.push({ legId: leg.id, reason: outcome.message });
      else if (outcome === 'expired') expired.push(leg.id);
      else if (outcome) redriven.push({ legId: leg.id, status: leg.status, ...outcome });
    }
    if (page.length < pageSize) break;
    afterId = page[page.length - 1]?.id;
  }
  return { checked, redriven, expired, skipped };
}

/** A destination's clock that did not answer: the leg is judged again by the next sweep. */
class ClockError extends RelayerError {
  constructor(chainId: number, cause: unknown) {
    super(`cannot read the time on chain ${chainId} to judge a leg's deadline: ${errorMessage(cause)}; the next sweep tries again`, { cause, retryable: true });
  }
}

/** The job re-driven; `expired` past the leg's deadline (reconciliation refunds it); undefined when its job is alive. */
export type RedriveOutcome = Pick<RedrivenLeg, 'job' | 'was'> | 'expired' | undefined;

/** One leg in progress held against its job, as the sweep does it (and an operator's retry through the API). */
export async function redriveLeg(params: { leg: LegInProgress; queues: Queues; now: (chainId: number) => Promise<Date> }): Promise<RedriveOutcome> {
  const { leg, queues } = params;
  if (leg.status === 'submitted') return redrive(queues.byName.legs, 'send', leg.id);
  const deliver = jobId('deliver', leg.id);
  const state = await queues.byName.deliveries.getJobState(deliver);
  if (state === 'waiting-children') {
    // The delivery waits for its send: a send that failed after recording `sent` holds it up.
    return redrive(queues.byName.legs, 'send', leg.id, { onlyIfFailed: true });
  }
  if (state !== 'failed' && state !== 'unknown') return undefined;
  if (UNDELIVERED.includes(leg.status) && leg.deadline !== null && (await params.now(leg.destinationChainId)).getTime() > leg.deadline.getTime()) return 'expired';
  return redrive(queues.byName.deliveries, 'deliver', leg.id, { knownState: state });
}

/** Retries the leg's `kind` job if it failed, adds it again if it is gone; else leaves it. */
async function redrive(queue: Queue, kind: 'send' | 'deliver', legId: Hash, options: { onlyIfFailed?: boolean; knownState?: string } = {}): Promise<RedriveOutcome> {
  const id = jobId(kind, legId);
  const state = options.knownState ?? (await queue.getJobState(id));
  if (state === 'failed') {
    const job: Job | undefined = await queue.getJob(id);
    try {
      await job?.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    } catch {
      // Another sweep (another node) retried it first, or it is running again: alive either way.
      return undefined;
    }
    return job ? { job: kind, was: 'failed' } : undefined;
  }
  if (state !== 'unknown' || options.onlyIfFailed) return undefined;
  // The same id as the flow gave it: a second sweep adding it too is a no-op.
  await queue.add(kind, { legId }, { jobId: id });
  return { job: kind, was: 'gone' };
}

/** A chain's clock for the sweeper: its head block's timestamp, read through the node's signer there. */
export function chainClock(context: ExecutionContext): (chainId: number) => Promise<Date> {
  return async (chainId) => new Date(Number((await chainOf(context, chainId).signer.public.getBlock()).timestamp) * 1_000);
}

/** A sweep as its job's return value: counts, and the legs it re-drove (kept in Redis, so short). */
export function sweepSummary(result: SweepResult): Record<string, unknown> {
  return {
    checked: result.checked,
    redriven: result.redriven.slice(0, 50).map((leg) => `${leg.job}-${leg.legId} (${leg.was})`),
    redrivenCount: result.redriven.length,
    expired: result.expired.length,
    skipped: result.skipped.length,
    ...(result.skipped[0] ? { firstSkipped: result.skipped[0].reason } : {}),
  };
}
