import type { Address, Hash } from 'viem';
import { shortfallIdOf, type AssessmentRecord, type LedgerDatabase, type RecordShortfallParameters } from '../../db/index.js';
import type { Checkpoint } from '../../chains/watch/block-follower.js';
import type { WatchedChain } from '../../chains/watch/watched-chain.js';
import { errorMessage, RelayerError } from '../errors.js';
import type { ShortfallReport } from '../orchestrator/shortfall-report.js';
import type { AccountIndex } from './account-index.js';
import { EpisodeBook, type EpisodeClose } from './episode-book.js';
import { commitWatcherStep, type EpisodeCloseRecord } from './episode-ledger.js';
import { shortfallOf } from './shortfall-of.js';
import type { ShortfallSink } from './shortfall-sink.js';
import type { WatcherLog } from './watcher-log.js';

export interface EpisodeReporterContext {
  readonly chain: WatchedChain;
  readonly ledger: LedgerDatabase;
  readonly sink: ShortfallSink;
  /**
   * The lease epoch while this node holds the chain's lease by its own clock, else undefined:
   * every commit carries it, and the ledger refuses one whose epoch is no longer current.
   */
  readonly leaseEpoch: () => bigint | undefined;
  readonly log: WatcherLog;
}

/**
 * Turns the index's verdicts into episodes, the ledger's record and the queue's jobs. Every
 * commit writes the checkpoint; a commit that decides also opens an episode for each dirty
 * account now at risk without one (and reports it) and closes the open episode of each dirty
 * account no longer at risk (and withdraws its job if nobody took it yet), in the same
 * transaction as the checkpoint, so the ledger's episodes always describe the state at its
 * checkpoint. Reports go to the queue after the commit; what fails to go stays pending for the
 * next flush, and a crash before that is repaired by the next term, which re-adds the job of
 * every open episode (the job id makes that a no-op when it exists).
 */
export class EpisodeReporter {
  readonly #context: EpisodeReporterContext;
  readonly #book: EpisodeBook;
  /** Open episodes detected in blocks a reorg removed: closed as orphaned unless at risk again. */
  readonly #suspects = new Set<Address>();
  #requeueOpen = true;
  readonly #pendingReports = new Map<Hash, ShortfallReport>();
  readonly #pendingWithdrawals = new Set<Hash>();
  /** Open episodes whose account changed: the orchestrator takes its next decision on them. */
  readonly #pendingReviews = new Map<Hash, string>();

  constructor(context: EpisodeReporterContext, book: EpisodeBook) {
    this.#context = context;
    this.#book = book;
  }

  get book(): EpisodeBook {
    return this.#book;
  }

  get pendingReports(): number {
    return this.#pendingReports.size;
  }

  get pendingWithdrawals(): number {
    return this.#pendingWithdrawals.size;
  }

  /**
   * The state went back to `block` (a reorg, or a start behind the ledger): episodes opened
   * above it are suspects, and every open episode's account is looked at again.
   */
  reviewOpen(index: AccountIndex, block: bigint): void {
    for (const [account, episode] of this.#book.open()) {
      index.dirty.add(account);
      if (episode.detectedBlock > block) this.#suspects.add(account);
    }
  }

  /** Writes the checkpoint; with `decide`, the episodes of the index's dirty accounts with it. */
  async commit(params: { index: AccountIndex; checkpoint: Checkpoint | undefined; decide: boolean }): Promise<void> {
    const { index, checkpoint } = params;
    if (!params.decide) return this.#write({ checkpoint, opens: [], closes: [], assessments: [] });
    const { chain, log } = this.#context;
    const decision = this.#book.decide({ accounts: index.dirty, isAtRisk: (account) => index.isAtRisk(account), suspects: this.#suspects });
    const block = checkpoint?.number ?? chain.startBlock - 1n;
    const detectedAt = new Date();
    const opens = decision.opens.map((open) => ({ ...open, ...this.#shortfall({ index, account: open.account, episode: open.episode, block, detectedAt }) }));
    const closes = decision.closes.map((close): EpisodeCloseRecord & { account: Address; episode: bigint } => ({
      account: close.account,
      episode: close.episode.episode,
      shortfallId: this.#shortfallId(close.account, close.episode.episode),
      closedAt: detectedAt,
      badDebt: close.orphaned ? 0n : badDebtOf(index, close),
      cause: close.orphaned ? 'reorg' : 'recovered',
      block,
    }));
    // Accounts whose open episode stays open but whose state moved: their latest assessment, and a review.
    const opened = new Set(decision.opens.map((open) => open.account));
    const closed = new Set(decision.closes.map((close) => close.account));
    const reassessed = [...index.dirty].flatMap((account) => {
      const episode = this.#book.get(account);
      if (!episode?.open || opened.has(account) || closed.has(account) || !index.isAtRisk(account)) return [];
      const { record, report } = this.#shortfall({ index, account, episode: episode.episode, block, detectedAt });
      return [{ shortfallId: this.#shortfallId(account, episode.episode), requiredAmount: record.requiredAmount, equity: record.equity, maintenance: record.maintenance, mEff: report.mEff, targetFractions: report.targetFractions ?? {}, sigmas: report.sigmas ?? {}, block, at: detectedAt }];
    });
    await this.#write({ checkpoint, opens: opens.map((open) => open.record), closes, assessments: reassessed });
    for (const assessment of reassessed) this.#pendingReviews.set(assessment.shortfallId, `block-${block}`);
    this.#book.apply(decision, { block, coveredBefore: (account) => index.badDebtCovered(account) });
    index.dirty.clear();
    this.#suspects.clear();
    for (const open of opens) this.#pendingReports.set(this.#shortfallId(open.account, open.episode), open.report);
    for (const close of closes) {
      this.#pendingReports.delete(close.shortfallId);
      this.#pendingReviews.delete(close.shortfallId);
      this.#pendingWithdrawals.add(close.shortfallId);
    }
    if (this.#requeueOpen) this.#requeue(index, detectedAt);
    for (const open of opens) log.info({ at: 'EpisodeReporter::commit', chain: chain.key, account: open.account, episode: open.episode.toString(), reason: open.report.reason, block: block.toString() }, 'shortfall opened');
    for (const close of closes) log.info({ at: 'EpisodeReporter::commit', chain: chain.key, account: close.account, episode: close.episode.toString(), cause: close.cause, block: block.toString() }, 'shortfall closed');
  }

  /** Sends what the ledger has committed and the queue has not seen yet; kept for the next flush on failure. */
  async flush(): Promise<void> {
    const { sink, chain } = this.#context;
    // In parallel: each is idempotent, and one price move may open many episodes.
    const reports = [...this.#pendingReports].map(async ([id, report]) => {
      await sink.reportShortfall(report);
      this.#pendingReports.delete(id);
    });
    const withdrawals = [...this.#pendingWithdrawals].map(async (id) => {
      await sink.withdrawShortfall(id);
      this.#pendingWithdrawals.delete(id);
    });
    const reviews = [...this.#pendingReviews].map(async ([id, cause]) => {
      await sink.reviewShortfall(id, cause);
      if (this.#pendingReviews.get(id) === cause) this.#pendingReviews.delete(id);
    });
    const failed = (await Promise.allSettled([...reports, ...withdrawals, ...reviews])).find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      const cause: unknown = failed.reason;
      throw new RelayerError(`queueing the shortfalls of chain ${chain.key} failed: ${errorMessage(cause)}`, { cause, retryable: true });
    }
  }

  async #write(params: { checkpoint: Checkpoint | undefined; opens: readonly RecordShortfallParameters[]; closes: readonly EpisodeCloseRecord[]; assessments: readonly AssessmentRecord[] }): Promise<void> {
    const { chain, ledger } = this.#context;
    const epoch = this.#context.leaseEpoch();
    if (epoch === undefined) throw new RelayerError(`the watcher of chain ${chain.key} no longer holds its lease: not committing`, { retryable: true });
    await commitWatcherStep(ledger, { chainId: chain.chainId, epoch, ...params });
  }

  /** The first decision of a term re-adds the job of every open episode, in case a crash lost it. */
  #requeue(index: AccountIndex, detectedAt: Date): void {
    this.#requeueOpen = false;
    for (const [account, episode] of this.#book.open()) {
      const id = this.#shortfallId(account, episode.episode);
      // Same job id as the first report: the queue keeps whichever it already has.
      if (!this.#pendingReports.has(id) && index.isAtRisk(account)) {
        this.#pendingReports.set(id, this.#shortfall({ index, account, episode: episode.episode, block: episode.detectedBlock, detectedAt }).report);
      }
    }
  }

  #shortfall(params: { index: AccountIndex; account: Address; episode: bigint; block: bigint; detectedAt: Date }) {
    const { chain } = this.#context;
    const { index, ...rest } = params;
    const health = index.health(params.account);
    if (health === undefined) throw new RelayerError(`account ${params.account} is not in the index of chain ${chain.key}`);
    return shortfallOf({
      chainId: chain.chainId,
      engine: chain.marginEngine,
      ...rest,
      health,
      collateral: index.accounts.get(params.account)?.collateral ?? 0n,
      coveredBefore: index.badDebtCovered(params.account),
    });
  }

  #shortfallId(account: Address, episode: bigint): Hash {
    return shortfallIdOf({ chainId: this.#context.chain.chainId, engine: this.#context.chain.marginEngine, account, episode });
  }
}

/** Insurance cover since the episode opened, plus any negative collateral left uncovered. */
function badDebtOf(index: AccountIndex, close: EpisodeClose): bigint {
  const covered = index.badDebtCovered(close.account) - close.episode.coveredBefore;
  const collateral = index.accounts.get(close.account)?.collateral ?? 0n;
  return (covered > 0n ? covered : 0n) + (collateral < 0n ? -collateral : 0n);
}
