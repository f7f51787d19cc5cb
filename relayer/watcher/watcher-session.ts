import { BlockNotFoundError, type Chain, type PublicClient, type Transport } from 'viem';
import type { LedgerDatabase } from '../../db/index.js';
import { BlockFollower, type Checkpoint, type CheckpointStore, type FollowedRange, type FollowerHandler, type StepResult } from '../../chains/watch/block-follower.js';
import { readEngineMarkets } from '../../chains/watch/engine-markets.js';
import { engineRange } from '../../chains/watch/engine-range.js';
import { LogsInRange } from '../../chains/watch/logs-in-range.js';
import type { WatchedChain } from '../../chains/watch/watched-chain.js';
import { RelayerError } from '../errors.js';
import type { RiskConfig } from '../risk/index.js';
import { AccountIndex, type IndexedMarket } from './account-index.js';
import { EpisodeBook } from './episode-book.js';
import { loadCheckpoint, loadEpisodes } from './episode-ledger.js';
import { EpisodeReporter } from './episode-reporter.js';
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
  /** The lease epoch while leading by this node's clock (else undefined); the ledger fences every commit with it. */
  readonly leaseEpoch: () => bigint | undefined;
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
  readonly pendingWithdrawals: number;
}

/**
 * One leadership term of a chain's watcher: the account index (account-index.ts), the episodes
 * (episode-reporter.ts) and the block follower, from opening (rebuild from the start block to
 * the checkpoint, then reconcile with the ledger) to being dropped (lease lost, failure, stop).
 *
 * Why a rebuild instead of a stored snapshot: the state is a function of the chain's logs (the
 * EWMA volatility of every round since the feeds began included), so replaying them gives
 * exactly the state of a watcher that never stopped, with no second source of truth to keep in
 * step; the ledger keeps only what the chain cannot tell, the episodes (a report's numbers and
 * whether it was closed). Cost: reading the engine's and the feeds' logs once per start.
 *
 * Episodes are decided only when a range reaches the confirmed head (a backfill does not report
 * what was at risk in the past), and not on the save that follows a rollback: the new branch is
 * read first, since it often mines the same breach again.
 */
export class WatcherSession implements FollowerHandler, CheckpointStore {
  readonly #context: WatcherContext;
  readonly #markets: readonly IndexedMarket[];
  readonly #reporter: EpisodeReporter;
  readonly #logs: LogsInRange;
  readonly #follower: BlockFollower;
  #index: AccountIndex;
  #checkpoint: Checkpoint | undefined;
  #head: bigint | undefined;
  #atHead = false;
  #afterRollback = false;

  private constructor(context: WatcherContext, markets: readonly IndexedMarket[], episodes: EpisodeBook, checkpoint: Checkpoint | undefined) {
    this.#context = context;
    this.#markets = markets;
    this.#reporter = new EpisodeReporter(context, episodes);
    this.#checkpoint = checkpoint;
    this.#index = this.#newIndex();
    this.#logs = new LogsInRange(context.client, context.follow.maxRange);
    this.#follower = new BlockFollower({
      client: context.client,
      addresses: this.#addresses(),
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
    await this.#reporter.flush();
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
    return this.#reporter.book;
  }

  status(): SessionStatus {
    return {
      checkpoint: this.#checkpoint,
      head: this.#head,
      accounts: this.#index.accounts.size,
      atRisk: this.#index.atRiskCount,
      openEpisodes: this.#reporter.book.openCount,
      pendingReports: this.#reporter.pendingReports,
      pendingWithdrawals: this.#reporter.pendingWithdrawals,
    };
  }

  // ---------------------------------------------------------------- CheckpointStore

  async load(): Promise<Checkpoint | undefined> {
    return this.#checkpoint;
  }

  async save(checkpoint: Checkpoint | undefined): Promise<void> {
    await this.#reporter.commit({ index: this.#index, checkpoint, decide: this.#atHead && !this.#afterRollback });
    this.#checkpoint = checkpoint;
  }

  // ---------------------------------------------------------------- FollowerHandler

  async apply(range: FollowedRange): Promise<void> {
    this.#index.apply({ from: range.from, to: range.to, timestamp: Number(range.toTimestamp), range: engineRange({ engine: this.#context.chain.marginEngine, logs: range.logs }) });
    this.#index.pruneUndo(range.to - this.#context.follow.maxReorgDepth - 1n);
    this.#head = range.head;
    this.#atHead = range.to + BigInt(this.#context.chain.confirmations) >= range.head;
    this.#afterRollback = false;
    this.#context.log.debug({ at: 'WatcherSession::apply', chain: this.#context.chain.key, from: range.from.toString(), to: range.to.toString(), head: range.head.toString(), logs: range.logs.length }, 'block range applied');
  }

  async rollbackTo(block: bigint): Promise<void> {
    this.#afterRollback = true;
    this.#reporter.reviewOpen(this.#index, block);
    this.#context.log.warn({ at: 'WatcherSession::rollbackTo', chain: this.#context.chain.key, block: block.toString() }, 'reorg: rolling the index back');
    const exists = block >= this.#context.chain.startBlock && (await this.#blockExists(block));
    if (!exists || this.#index.undoTo(block) === undefined) this.#rebuild();
    if (exists) await this.#replayTo(block);
  }

  // ---------------------------------------------------------------- internals

  /** After open: the index at the checkpoint; every at-risk account and open episode to reconcile. */
  async #resume(): Promise<void> {
    const { client, chain } = this.#context;
    const checkpoint = this.#checkpoint;
    const head = await client.getBlockNumber({ cacheTime: 0 });
    this.#head = head;
    // A checkpoint above the head (a chain that went back, a devnet restarted): the follower
    // finds its hash gone and rolls back; the index need not go further than the chain does.
    const at = checkpoint === undefined ? chain.startBlock - 1n : checkpoint.number < head ? checkpoint.number : head;
    await this.#replayTo(at);
    this.#reporter.reviewOpen(this.#index, at);
    for (const account of this.#index.atRiskAccounts()) this.#index.dirty.add(account);
    if (checkpoint === undefined || checkpoint.number > head) return;
    // Already at the head (a restart without new blocks): reconcile now, not at the next block.
    const block = await client.getBlock({ blockNumber: checkpoint.number });
    if (block.hash === checkpoint.hash && checkpoint.number + BigInt(chain.confirmations) >= head) {
      await this.#reporter.commit({ index: this.#index, checkpoint, decide: true });
      await this.#reporter.flush();
    }
  }

  /** Applies logs from the index's block to `target` in bounded steps (a rebuild, or after a rollback). */
  async #replayTo(target: bigint): Promise<void> {
    const { client, chain, follow } = this.#context;
    while (this.#index.appliedThrough < target) {
      this.#context.signal.throwIfAborted();
      const from = this.#index.appliedThrough + 1n;
      const to = from + follow.stepBlocks - 1n < target ? from + follow.stepBlocks - 1n : target;
      const [logs, block] = await Promise.all([this.#logs.fetch({ addresses: this.#addresses(), from, to }), client.getBlock({ blockNumber: to })]);
      this.#index.apply({ from, to, timestamp: Number(block.timestamp), range: engineRange({ engine: chain.marginEngine, logs }) });
      this.#index.pruneUndo(to - follow.maxReorgDepth - 1n);
    }
  }

  /** A fresh, empty index; whatever the old one had at risk or dirty is looked at again once rebuilt. */
  #rebuild(): void {
    const carried = new Set([...this.#index.dirty, ...this.#index.atRiskAccounts(), ...this.#reporter.book.open().map(([account]) => account)]);
    this.#index = this.#newIndex();
    for (const account of carried) this.#index.dirty.add(account);
  }

  #newIndex(): AccountIndex {
    return new AccountIndex({ markets: this.#markets, config: this.#context.risk, startBlock: this.#context.chain.startBlock });
  }

  #addresses() {
    return [this.#context.chain.marginEngine, ...this.#context.chain.markets.map((market) => market.priceFeed)];
  }

  async #blockExists(block: bigint): Promise<boolean> {
    try {
      await this.#context.client.getBlock({ blockNumber: block });
      return true;
    } catch (error) {
      if (error instanceof BlockNotFoundError) return false;
      throw error;
    }
  }
}
