import type { Chain, PublicClient, Transport } from 'viem';
import { claimWatcherEpoch, FencedOutError, type LedgerDatabase } from '../../db/index.js';
import type { Checkpoint } from '../../chains/watch/block-follower.js';
import { rpcClient } from '../../chains/watch/rpc-client.js';
import type { WatchedChain } from '../../chains/watch/watched-chain.js';
import { ConfigError, errorMessage } from '../errors.js';
import { silentLogger } from '../log/logger.js';
import { varianceFromAnnualVolatility, type RiskConfig } from '../risk/index.js';
import type { Lease } from './lease.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { ShortfallSink } from './shortfall-sink.js';
import type { WatcherLog } from './watcher-log.js';
import { WatcherSession, type FollowSettings, type MarketVolatility } from './watcher-session.js';

export interface ChainWatcherOptions {
  readonly chain: WatchedChain;
  readonly ledger: LedgerDatabase;
  /** Where reports go (orchestratorSink(orchestrator) in the node). */
  readonly sink: ShortfallSink;
  readonly risk: RiskConfig;
  /** The chain's lease (RedisLease named after the chain): only its holder follows the chain. */
  readonly lease: Lease;
  /** Default: rpcClient over the chain's rpcUrls (retries, timeout, failover). */
  readonly client?: PublicClient<Transport, Chain>;
  /** Default: floor 20% a year, prior 80% a year until the first returns are seen. */
  readonly volatility?: MarketVolatility;
  readonly follow?: Partial<FollowSettings>;
  /** How often the head is polled once caught up (default 1000 ms; a devnet wants ~50). */
  readonly pollIntervalMs?: number;
  /** How often a standby node tries to take the lease (default a third of its TTL). */
  readonly leaseRetryMs?: number;
  /** Longest wait between retries after failures (default 30 s; backoff doubles from 100 ms). */
  readonly maxBackoffMs?: number;
  readonly log?: WatcherLog;
}

export type WatcherState = 'standby' | 'opening' | 'following' | 'failed' | 'stopped';

export interface ChainWatcherStatus {
  readonly chain: string;
  readonly chainId: number;
  /** standby: another node leads; opening: rebuilding the index; failed: stopped by a configuration error. */
  readonly state: WatcherState;
  readonly leader: boolean;
  readonly head: bigint | undefined;
  readonly checkpoint: Checkpoint | undefined;
  /** Blocks between the head and the checkpoint (confirmations included). */
  readonly lag: bigint | undefined;
  readonly accounts: number;
  readonly atRisk: number;
  readonly openEpisodes: number;
  /** Reports committed to the ledger and not yet in the queue (Redis trouble). */
  readonly pendingReports: number;
  /** Closed episodes whose job is still to be taken back from the queue. */
  readonly pendingWithdrawals: number;
  readonly lastError: string | undefined;
}

export interface ChainWatcher {
  status(): ChainWatcherStatus;
  /** The current term's session (undefined unless leading): its index, for tests and status pages. */
  session(): WatcherSession | undefined;
  /** Stops following, waits for the step in progress, gives the lease up; safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_VOLATILITY: MarketVolatility = { varianceFloor: varianceFromAnnualVolatility(0.2), initialVariance: varianceFromAnnualVolatility(0.8) };
const DEFAULT_FOLLOW: FollowSettings = { maxRange: 2_000n, stepBlocks: 10_000n, maxReorgDepth: 64n };

/**
 * Runs the watcher of one chain on this node: waits for the chain's lease, then rebuilds the
 * account index and follows the chain (watcher-session.ts), reporting shortfalls to `sink`,
 * until stopped or the lease is lost (then it drops its state and waits for the lease again).
 * Failures are retried with backoff (a half-applied index is dropped and rebuilt); only a
 * configuration error stops it for good (`state: 'failed'`).
 */
export function startChainWatcher(options: ChainWatcherOptions): ChainWatcher {
  const { chain, lease } = options;
  const log = options.log ?? silentLogger();
  const client = options.client ?? rpcClient({ chainId: chain.chainId, rpcUrls: chain.rpcUrls });
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const leaseRetryMs = options.leaseRetryMs ?? Math.max(10, Math.floor(lease.ttlMs / 3));
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const abort = new AbortController();
  let wake: (() => void) | undefined;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (abort.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  let state: WatcherState = 'standby';
  let session: WatcherSession | undefined;
  let lastError: string | undefined;
  const keeper = new LeaseKeeper({
    lease,
    claimEpoch: () => claimWatcherEpoch(options.ledger, { chainId: chain.chainId, owner: lease.owner }),
    onLost: (reason) => {
      log.warn({ at: 'ChainWatcher::lease', chain: chain.key, reason }, 'lease lost: dropping the chain');
      wake?.();
    },
  });
  const context = {
    chain,
    client,
    ledger: options.ledger,
    sink: options.sink,
    risk: options.risk,
    volatility: options.volatility ?? DEFAULT_VOLATILITY,
    follow: { ...DEFAULT_FOLLOW, ...options.follow },
    leaseEpoch: () => keeper.epoch,
    signal: abort.signal,
    log,
  };

  async function turn(): Promise<void> {
    if (!keeper.held) {
      session = undefined;
      state = 'standby';
      if (!(await keeper.acquire())) return sleep(leaseRetryMs);
      log.info({ at: 'ChainWatcher::lease', chain: chain.key, owner: lease.owner, epoch: String(keeper.epoch) }, 'lease taken: leading the chain');
    }
    if (session === undefined) {
      state = 'opening';
      session = await WatcherSession.open(context);
      log.info({ at: 'ChainWatcher::open', chain: chain.key, ...plain(session.status()) }, 'index rebuilt');
    }
    state = 'following';
    const result = await session.step();
    if (result.caughtUp) await sleep(pollIntervalMs);
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        await turn();
        failures = 0;
      } catch (error) {
        if (abort.signal.aborted) break;
        lastError = errorMessage(error);
        if (error instanceof FencedOutError) {
          // Paused past the TTL and taken over: this term is over, whatever our clock says.
          log.warn({ at: 'ChainWatcher::run', chain: chain.key, err: error }, 'fenced out by a later lease epoch: dropping the chain');
          session = undefined;
          state = 'standby';
          await keeper.release().catch((releaseError: unknown) => log.warn({ at: 'ChainWatcher::run', chain: chain.key, err: releaseError }, 'releasing the lease failed; it expires by itself'));
          continue;
        }
        if (error instanceof ConfigError) {
          state = 'failed';
          log.error({ at: 'ChainWatcher::run', chain: chain.key, err: error }, 'configuration error: the watcher stops');
          break;
        }
        if (session?.broken === true) session = undefined;
        failures += 1;
        log.warn({ at: 'ChainWatcher::run', chain: chain.key, err: error, failures }, 'watcher step failed; retrying');
        await sleep(Math.min(maxBackoffMs, 100 * 2 ** Math.min(failures - 1, 16)));
      }
    }
    session = undefined;
    await keeper.release().catch((error: unknown) => log.warn({ at: 'ChainWatcher::stop', chain: chain.key, err: error }, 'releasing the lease failed; it expires by itself'));
  }

  const running = run();
  let stopping: Promise<void> | undefined;
  return {
    status() {
      const current = session?.status();
      const checkpoint = current?.checkpoint;
      const head = current?.head;
      return {
        chain: chain.key,
        chainId: chain.chainId,
        state,
        leader: keeper.held,
        head,
        checkpoint,
        lag: head !== undefined && checkpoint !== undefined ? head - checkpoint.number : undefined,
        accounts: current?.accounts ?? 0,
        atRisk: current?.atRisk ?? 0,
        openEpisodes: current?.openEpisodes ?? 0,
        pendingReports: current?.pendingReports ?? 0,
        pendingWithdrawals: current?.pendingWithdrawals ?? 0,
        lastError,
      };
    },
    session: () => session,
    stop: () =>
      (stopping ??= (async () => {
        abort.abort();
        wake?.();
        await running;
        if (state !== 'failed') state = 'stopped';
      })()),
  };
}

/** Status values for a log line (bigints as strings). */
function plain(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
}
