import type { Address, Chain, Hash, PublicClient, Transport } from 'viem';
import { shortfallIdOf, type LedgerDatabase, type RecordShortfallParameters } from '../../db/index.js';
import { BlockFollower, type Checkpoint, type CheckpointStore, type FollowedRange, type FollowerHandler, type StepResult } from '../../chains/watch/block-follower.js';
import { readEngineMarkets } from '../../chains/watch/engine-markets.js';
import { engineRange } from '../../chains/watch/engine-range.js';
import { LogsInRange } from '../../chains/watch/logs-in-range.js';
import type { WatchedChain } from '../../chains/watch/watched-chain.js';
import { errorMessage, RelayerError } from '../errors.js';
import type { ShortfallReport } from '../orchestrator/shortfall-report.js';
import type { RiskConfig } from '../risk/index.js';
import { AccountIndex, type IndexedMarket } from './account-index.js';
import { EpisodeBook, type EpisodeClose } from './episode-book.js';
import { commitWatcherStep, loadCheckpoint, loadEpisodes, type EpisodeCloseRecord } from './episode-ledger.js';
import { shortfallOf } from './shortfall-of.js';
import type { ShortfallSink } from './shortfall-sink.js';
import type { WatcherLog } from './watcher-log.js';

/** Per-second variances of a market's log returns (volatility.ts) the watcher starts from. */
export interface MarketVolatility {
  readonly varianceFloor: number;
  readonly initialVariance?: number;
}

export interface FollowSettings {
  /** Largest getLogs range (shrinks when the RPC refuses). */
  readonly maxRange: bigint;
  /** Most blocks applied in one step (the checkpoint moves at least this often in a backfill). */
  readonly stepBlocks: bigint;
  /** How deep a reorg may go: undo entries are kept this far back. */
  readonly maxReorgDepth: bigint;
}

export interface WatcherContext {
  readonly chain: WatchedChain;
  readonly client: PublicClient<Transport, Chain>;
  readonly ledger: LedgerDatabase;
  readonly sink: ShortfallSink;
  readonly risk: RiskConfig;
  readonly volatility: MarketVolatility;
  readonly follow: FollowSettings;
  /** Checked before every ledger commit: a node that lost the chain's lease writes nothing more. */
  readonly isLeader: () => boolean;
  /** Aborted when the watcher stops: a long rebuild ends early. */
  readonly signal: AbortSignal;
  readonly log: WatcherLog;
}

export interface SessionStatus {
  readonly checkpoint: Checkpoint | undefined;
  readonly head: bigint | undefined;
  readonly accounts: number;
  readonly atRisk: number;
  readonly openEpisodes: number;
  readonly pendingReports: number;
}

/**
 * One leadership term of a chain's watcher: the account index, the episodes and the block
 * follower, from opening (rebuild from the start block to the checkpoint, then reconcile with
 * the ledger) to being dropped (lease lost, failure, stop).
 *
 * Why a rebuild instead of a stored snapshot: the state is a function of the chain's logs (the
 * EWMA volatility of every round since the feeds began included), so replaying them gives
 * exactly the state of a watcher that never stopped, with no second source of truth to keep in
 * step; the ledger keeps only what the chain cannot tell, the episodes (a report's numbers and
 * whether it was closed). Cost: reading the engine's and the feeds' logs once per start.
 *
 * Episodes follow the state at the checkpoint and move only together with it, in one ledger
 * transaction (commitWatcherStep). Reports go to the queue after that commit; a crash in
 * between is repaired on the next start, which re-adds every open episode's job (the job id
 * makes that a no-op when it exists). Episodes are decided only when a range reaches the
 * confirmed head: a backfill does not report what was at risk in the past.
 */
export class WatcherSession implements FollowerHandler, CheckpointStore {
  readonly #context: WatcherContext;
  readonly #markets: readonly IndexedMarket[];
  readonly #episodes: EpisodeBook;
  readonly #logs: LogsInRange;
  readonly #follower: BlockFollower;
  #index: AccountIndex;
  #checkpoint: Checkpoint | undefined;
  #head: bigint | undefined;
  #atHead = false;
  #afterRollback = false;
  /** Open episodes opened in blocks a reorg removed: closed as orphaned unless at risk again. */
  readonly #suspects = new Set<Address>();
  /** On the first commit of a term, every open episode's job is added again. */
  #requeueOpen = true;
  readonly #pendingReports = new Map<Hash, ShortfallReport>();
  readonly #pendingWithdrawals = new Set<Hash>();

  private constructor(context: WatcherContext, markets: readonly IndexedMarket[], episodes: EpisodeBook, checkpoint: Checkpoint | undefined) {
    this.#context = context;
    this.#markets = markets;
    this.#episodes = episodes;
    this.#checkpoint = checkpoint;
    this.#index = this.#newIndex();
    this.#logs = new LogsInRange(context.client, context.follow.maxRange);
    this.#follower = new BlockFollower({
      client: context.client,
      addresses: [context.chain.marginEngine, ...context.chain.markets.map((market) => market.priceFeed)],
      confirmations: context.chain.confirmations,
      startBlock: context.chain.startBlock,
      store: this,
      handler: this,
      maxRange: context.follow.maxRange,
      stepBlocks: context.follow.stepBlocks,
      maxReorgDepth: context.follow.maxReorgDepth,
    });
  }

  /** Reads the markets, the ledger's episodes and checkpoint, and rebuilds the index up to it. */
  static async open(context: WatcherContext): Promise<WatcherSession> {
    const { chain, client, ledger, volatility } = context;
    const engineMarkets = await readEngineMarkets(client, chain);
    const markets: IndexedMarket[] = engineMarkets.map((market, i) => {
      const watched = chain.markets[i];
      if (watched === undefined) throw new RelayerError(`no watched market at index ${i}`);
      return {
        feed: watched.priceFeed,
        heartbeatOverride: watched.heartbeatSeconds,
        params: {
          id: market.marketId,
          maintenanceFraction: market.maintenanceMarginFraction,
          priceDecimals: market.priceDecimals,
          heartbeatSeconds: watched.heartbeatSeconds ?? Number(market.maxPriceAge),
          ...volatility,
        },
      };
    });
    const episodes = new EpisodeBook(await loadEpisodes(ledger, { chainId: chain.chainId, engine: chain.marginEngine }));
    const session = new WatcherSession(context, markets, episodes, await loadCheckpoint(ledger, chain.chainId));
    await session.#resume();
    return session;
  }

  /** One follower step (reorg check, next confirmed range), then whatever the queue still owes. */
  async step(): Promise<StepResult> {
    const result = await this.#follower.step();
    this.#head = result.head;
    await this.#flush();
    return result;
  }

  /** Whether the index is half applied (a failure mid-range): the session must then be dropped. */
  get broken(): boolean {
    return this.#index.broken;
  }

  get index(): AccountIndex {
    return this.#index;
  }

  get episodes(): EpisodeBook {
    return this.#episodes;
  }

  status(): SessionStatus {
    return {
      checkpoint: this.#checkpoint,
      head: this.#head,
      accounts: this.#index.accounts.size,
      atRisk: this.#index.atRiskCount,
      openEpisodes: this.#episodes.openCount,
      pendingReports: this.#pendingReports.size,
    };
  }

  // ---------------------------------------------------------------- CheckpointStore

  async load(): Promise<Checkpoint | undefined> {
    return this.#checkpoint;
  }

  async save(checkpoint: Checkpoint | undefined): Promise<void> {
    // In a backfill the state is the past: nothing to report. Right after a rollback the new
    // branch has not been read yet: what the orphaned blocks opened is decided once it has
    // (the same breach is often mined again).
    if (this.#atHead && !this.#afterRollback) await this.#sync(checkpoint);
    else await this.#commit({ checkpoint, opens: [], closes: [] });
  }

  // ---------------------------------------------------------------- FollowerHandler

  async apply(range: FollowedRange): Promise<void> {
    this.#index.apply({ from: range.from, to: range.to, timestamp: Number(range.toTimestamp), range: engineRange({ engine: this.#context.chain.marginEngine, logs: range.logs }) });
    this.#index.pruneUndo(range.to - this.#context.follow.maxReorgDepth - 1n);
    this.#head = range.head;
    this.#atHead = range.to + BigInt(this.#context.chain.confirmations) >= range.head;
    this.#afterRollback = false;
  }

  async rollbackTo(block: bigint): Promise<void> {
    this.#afterRollback = true;
    for (const [account, episode] of this.#episodes.open()) {
      if (episode.detectedBlock > block) {
        this.#suspects.add(account);
        this.#index.dirty.add(account);
      }
    }
    this.#context.log.warn({ at: 'WatcherSession::rollbackTo', chain: this.#context.chain.key, block: block.toString(), suspects: this.#suspects.size }, 'reorg: rolling the index back');
    const exists = block >= this.#context.chain.startBlock && (await this.#blockExists(block));
    if (!exists || this.#index.undoTo(block) === undefined) this.#rebuild();
    if (exists) await this.#replayTo(block);
  }

  // ---------------------------------------------------------------- internals

  /** After open: the index at the checkpoint; every at-risk account and open episode to reconcile. */
  async #resume(): Promise<void> {
    const checkpoint = this.#checkpoint;
    const at = checkpoint?.number ?? this.#context.chain.startBlock - 1n;
    await this.#replayTo(at);
    for (const [account, episode] of this.#episodes.open()) {
      this.#index.dirty.add(account);
      if (episode.detectedBlock > at) this.#suspects.add(account);
    }
    for (const account of this.#index.atRiskAccounts()) this.#index.dirty.add(account);
    if (checkpoint === undefined) return;
    // Already at the head (a restart without new blocks): reconcile now, not at the next block.
    const [head, block] = await Promise.all([this.#context.client.getBlockNumber({ cacheTime: 0 }), this.#context.client.getBlock({ blockNumber: checkpoint.number })]);
    this.#head = head;
    if (block.hash === checkpoint.hash && checkpoint.number + BigInt(this.#context.chain.confirmations) >= head) {
      this.#atHead = true;
      await this.#sync(checkpoint);
      await this.#flush();
    }
  }

  /** Applies logs from the index's block to `target` in bounded steps (a rebuild, or after a rollback). */
  async #replayTo(target: bigint): Promise<void> {
    const { client, chain, follow } = this.#context;
    const addresses = [chain.marginEngine, ...chain.markets.map((market) => market.priceFeed)];
    while (this.#index.appliedThrough < target) {
      this.#context.signal.throwIfAborted();
      const from = this.#index.appliedThrough + 1n;
      const to = from + follow.stepBlocks - 1n < target ? from + follow.stepBlocks - 1n : target;
      const [logs, block] = await Promise.all([this.#logs.fetch({ addresses, from, to }), client.getBlock({ blockNumber: to })]);
      this.#index.apply({ from, to, timestamp: Number(block.timestamp), range: engineRange({ engine: chain.marginEngine, logs }) });
      this.#index.pruneUndo(to - follow.maxReorgDepth - 1n);
    }
  }

  /** A fresh, empty index; whatever the old one had at risk is looked at again once rebuilt. */
  #rebuild(): void {
    const carried = new Set([...this.#index.dirty, ...this.#index.atRiskAccounts(), ...this.#episodes.open().map(([account]) => account)]);
    this.#index = this.#newIndex();
    for (const account of carried) this.#index.dirty.add(account);
  }

  #newIndex(): AccountIndex {
    return new AccountIndex({ markets: this.#markets, config: this.#context.risk, startBlock: this.#context.chain.startBlock });
  }

  /**
   * Decides the episodes of every account whose verdict may have changed, commits them with the
   * checkpoint, and queues what follows: reports of opened episodes, withdrawals of closed ones.
   */
  async #sync(checkpoint: Checkpoint | undefined): Promise<void> {
    const { chain, log } = this.#context;
    const decision = this.#episodes.decide({ accounts: this.#index.dirty, isAtRisk: (account) => this.#index.isAtRisk(account), suspects: this.#suspects });
    const block = checkpoint?.number ?? chain.startBlock - 1n;
    const detectedAt = new Date();
    const opens = decision.opens.map((open) => ({ ...open, ...this.#shortfall({ account: open.account, episode: open.episode, block, detectedAt }) }));
    const closes = decision.closes.map((close): EpisodeCloseRecord & { account: Address; episode: bigint } => ({
      account: close.account,
      episode: close.episode.episode,
      shortfallId: this.#shortfallId(close.account, close.episode.episode),
      closedAt: detectedAt,
      badDebt: close.orphaned ? 0n : this.#badDebtOf(close),
      cause: close.orphaned ? 'reorg' : 'recovered',
      block,
    }));
    await this.#commit({ checkpoint, opens: opens.map((open) => open.record), closes });
    this.#episodes.apply(decision, { block, coveredBefore: (account) => this.#index.badDebtCovered(account) });
    this.#index.dirty.clear();
    this.#suspects.clear();
    for (const open of opens) this.#pendingReports.set(this.#shortfallId(open.account, open.episode), open.report);
    for (const close of closes) {
      this.#pendingReports.delete(close.shortfallId);
      this.#pendingWithdrawals.add(close.shortfallId);
    }
    if (this.#requeueOpen) {
      this.#requeueOpen = false;
      for (const [account, episode] of this.#episodes.open()) {
        const id = this.#shortfallId(account, episode.episode);
        if (!this.#pendingReports.has(id) && this.#index.isAtRisk(account)) {
          this.#pendingReports.set(id, this.#shortfall({ account, episode: episode.episode, block: episode.detectedBlock, detectedAt }).report);
        }
      }
    }
    for (const open of opens) log.info({ at: 'WatcherSession::sync', chain: chain.key, account: open.account, episode: open.episode.toString(), reason: open.report.reason, block: block.toString() }, 'shortfall opened');
    for (const close of closes) log.info({ at: 'WatcherSession::sync', chain: chain.key, account: close.account, episode: close.episode.toString(), cause: close.cause, block: block.toString() }, 'shortfall closed');
  }

  /** Episode changes and the checkpoint in one ledger transaction, by the lease holder only. */
  async #commit(params: { checkpoint: Checkpoint | undefined; opens: readonly RecordShortfallParameters[]; closes: readonly EpisodeCloseRecord[] }): Promise<void> {
    const { chain, ledger } = this.#context;
    if (!this.#context.isLeader()) throw new RelayerError(`the watcher of chain ${chain.key} no longer holds its lease: not committing`, { retryable: true });
    await commitWatcherStep(ledger, { chainId: chain.chainId, ...params });
    this.#checkpoint = params.checkpoint;
  }

  /** Sends what the ledger has committed and the queue has not seen yet; kept for the next step on failure. */
  async #flush(): Promise<void> {
    const { sink, chain } = this.#context;
    // In parallel: each is idempotent, and a block that moves a price may open many episodes.
    const reports = [...this.#pendingReports].map(async ([id, report]) => {
      await sink.reportShortfall(report);
      this.#pendingReports.delete(id);
    });
    const withdrawals = [...this.#pendingWithdrawals].map(async (id) => {
      await sink.withdrawShortfall(id);
      this.#pendingWithdrawals.delete(id);
    });
    const failed = (await Promise.allSettled([...reports, ...withdrawals])).find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      const cause: unknown = failed.reason;
      throw new RelayerError(`queueing the shortfalls of chain ${chain.key} failed: ${errorMessage(cause)}`, { cause, retryable: true });
    }
  }

  #shortfall(params: { account: Address; episode: bigint; block: bigint; detectedAt: Date }) {
    const { chain } = this.#context;
    const health = this.#index.health(params.account);
    if (health === undefined) throw new RelayerError(`account ${params.account} is not in the index of chain ${chain.key}`);
    return shortfallOf({
      chainId: chain.chainId,
      engine: chain.marginEngine,
      ...params,
      health,
      collateral: this.#index.accounts.get(params.account)?.collateral ?? 0n,
      coveredBefore: this.#index.badDebtCovered(params.account),
    });
  }

  #shortfallId(account: Address, episode: bigint): Hash {
    return shortfallIdOf({ chainId: this.#context.chain.chainId, engine: this.#context.chain.marginEngine, account, episode });
  }

  /** Insurance cover since the episode opened, plus any negative collateral left uncovered. */
  #badDebtOf(close: EpisodeClose): bigint {
    const covered = this.#index.badDebtCovered(close.account) - close.episode.coveredBefore;
    const collateral = this.#index.accounts.get(close.account)?.collateral ?? 0n;
    return (covered > 0n ? covered : 0n) + (collateral < 0n ? -collateral : 0n);
  }

  async #blockExists(block: bigint): Promise<boolean> {
    try {
      await this.#context.client.getBlock({ blockNumber: block });
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'BlockNotFoundError') return false;
      throw error;
    }
  }
}
