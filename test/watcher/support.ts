/**
 * A one-chain devnet with seeded traders, a migrated ledger, the orchestrator's real queues (no
 * workers: the jobs stay where the watcher put them) and watchers on it, for the watcher suites.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Address, Hex } from 'viem';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { anvilControl } from '../../chains/devnet/control.js';
import { startDevnet, type Devnet } from '../../chains/devnet/devnet.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { seedAccounts, type SeedFile } from '../../chains/devnet/seed.js';
import { marketId } from '../../chains/protocol/markets.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { price } from '../../chains/protocol/units.js';
import { Signer } from '../../chains/signer.js';
import { watchedChainFromManifest, type WatchedChain } from '../../chains/watch/watched-chain.js';
import { registerChains, shortfalls, watcherCheckpoints, type LedgerHandle } from '../../db/index.js';
import { defaultPolicySettings, fixedWorld } from '../../relayer/orchestrator/fixed-world.js';
import { startOrchestrator, type Orchestrator } from '../../relayer/orchestrator/orchestrator.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import type { ShortfallReport } from '../../relayer/orchestrator/shortfall-report.js';
import { riskConfig } from '../../relayer/risk/index.js';
import { RedisLease, type Lease } from '../../relayer/watcher/lease.js';
import { orchestratorSink } from '../../relayer/watcher/shortfall-sink.js';
import { startChainWatcher, type ChainWatcher, type ChainWatcherOptions } from '../../relayer/watcher/start-chain-watcher.js';
import type { WatcherLog } from '../../relayer/watcher/watcher-log.js';
import { createMigratedLedger } from '../db/support/test-database.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ETH = marketId('ETH-USD');
export const BTC = marketId('BTC-USD');

/**
 * Risk settings that keep m_eff at the static margin for the moves the tests make (a slow EWMA
 * and a tiny variance floor), so who is at risk is plain arithmetic: E < 1.1 * MM.
 */
export const TEST_RISK = riskConfig({ actionSeconds: 30, warn: 0.1, target: 0.2, lambda: 0.99999 });
export const TEST_VOLATILITY = { varianceFloor: 1e-12, initialVariance: 1e-12 };

/**
 * Traders 0-3 on one chain, at ETH 3000 and BTC 60000:
 * - 0: 1000 USD, 3 ETH long: reported below ETH ~2821.9, liquidatable below ~2807.
 * - 1: 3000 USD, 0.3 BTC long: reported below BTC ~52301.
 * - 2: 2000 USD, 1 ETH short: healthy for any price the tests push.
 * - 3: 2000 USD, 2 ETH long and 0.1 BTC short (cross-margin).
 */
export const SEED: SeedFile = {
  prices: { 'ETH-USD': '3000', 'BTC-USD': '60000' },
  accounts: [
    { trader: 0, chain: 'alpha', deposit: '1000', positions: [{ market: 'ETH-USD', size: '3' }] },
    { trader: 1, chain: 'alpha', deposit: '3000', positions: [{ market: 'BTC-USD', size: '0.3' }] },
    { trader: 2, chain: 'alpha', deposit: '2000', positions: [{ market: 'ETH-USD', size: '-1' }] },
    { trader: 3, chain: 'alpha', deposit: '2000', crossChainConsent: true, positions: [{ market: 'ETH-USD', size: '2' }, { market: 'BTC-USD', size: '-0.1' }] },
  ],
};

export const trader = (n: number): Address => devnetAccount(devnetRoles.firstTrader + n).address;

/** A devnet chain, seeded, plus what the watcher tests share in one file. */
export class WatcherBench {
  readonly #watchers: ChainWatcher[] = [];
  readonly #orchestrators: Orchestrator[] = [];
  readonly #redis: Redis[] = [];

  private constructor(
    readonly devnet: Devnet,
    readonly chain: ManifestChain,
    readonly ledger: LedgerHandle,
    readonly cleanupLedger: () => Promise<void>,
    readonly owner: Signer,
  ) {}

  static async start(seed: SeedFile = SEED): Promise<WatcherBench> {
    const devnet = await startDevnet({ chains: 1 });
    try {
      const chain = devnet.manifest.chains[0];
      if (chain === undefined) throw new Error('no devnet chain');
      const dir = await mkdtemp(join(tmpdir(), 'watcher-seed-'));
      try {
        await writeFile(join(dir, 'seed.json'), JSON.stringify(seed));
        await seedAccounts({ manifest: devnet.manifest, file: join(dir, 'seed.json') });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      const { ledger, cleanup } = await createMigratedLedger();
      await registerChains(ledger.db, [{ chainId: chain.chainId, key: chain.key, lzEid: chain.lzEid, wormholeChainId: chain.wormholeChainId, confirmations: 0 }]);
      const owner = new Signer({ chainId: chain.chainId, rpcUrl: chain.rpcUrl, name: chain.key }, devnetAccount(devnetRoles.deployer));
      return new WatcherBench(devnet, chain, ledger, cleanup, owner);
    } catch (error) {
      await devnet.stop();
      throw error;
    }
  }

  /** Stops every watcher, empties every queue, closes everything; then the devnet. */
  async stop(): Promise<void> {
    await this.stopWatchers();
    for (const redis of this.#redis.splice(0)) redis.disconnect();
    await this.cleanupLedger();
    await this.devnet.stop();
  }

  async stopWatchers(): Promise<void> {
    await Promise.allSettled(this.#watchers.splice(0).map((watcher) => watcher.stop()));
    for (const orchestrator of this.#orchestrators.splice(0)) {
      await orchestrator.close();
      await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));
    }
  }

  get control() {
    return anvilControl({ chainId: this.chain.chainId, rpcUrl: this.chain.rpcUrl });
  }

  get client() {
    return this.owner.public;
  }

  redis(): Redis {
    const redis = createRedis(REDIS_URL);
    this.#redis.push(redis);
    return redis;
  }

  /** The orchestrator's queues under a fresh prefix, with no workers: jobs stay put for the test to read. */
  queues(prefix = `wt-${randomBytes(4).toString('hex')}`): Orchestrator {
    const orchestrator = startOrchestrator({ connection: this.redis(), prefix, ledger: this.ledger.db, worldSource: fixedWorld(), policy: defaultPolicySettings, chainKeys: new Map(), run: [] });
    this.#orchestrators.push(orchestrator);
    return orchestrator;
  }

  watched(overrides: Parameters<typeof watchedChainFromManifest>[1] = {}): WatchedChain {
    return watchedChainFromManifest(this.chain, overrides);
  }

  lease(params: { prefix: string; ttlMs?: number; redis?: Redis }): Lease {
    return new RedisLease({ redis: params.redis ?? this.redis(), name: `watcher:${this.chain.chainId}`, prefix: params.prefix, ttlMs: params.ttlMs ?? 2_000 });
  }

  /** A watcher on this chain reporting into `queues`; stopped by `stopWatchers`. */
  watch(params: { queues: Orchestrator; lease?: Lease; chain?: WatchedChain } & Partial<ChainWatcherOptions>): ChainWatcher {
    const { queues, ...rest } = params;
    const watcher = startChainWatcher({
      chain: this.watched(),
      ledger: this.ledger.db,
      sink: orchestratorSink(queues),
      risk: TEST_RISK,
      volatility: TEST_VOLATILITY,
      lease: params.lease ?? this.lease({ prefix: queues.queues.prefix }),
      pollIntervalMs: 20,
      leaseRetryMs: 50,
      maxBackoffMs: 200,
      ...rest,
    });
    this.#watchers.push(watcher);
    return watcher;
  }

  feed(market: Hex): Address {
    const found = this.chain.markets.find((m) => m.marketId === market);
    if (!found) throw new Error(`no market ${market}`);
    return found.priceFeed;
  }

  /** Pushes a price (decimal string) to a market's feed; resolves to the block it was mined in. */
  async push(market: Hex, value: string): Promise<bigint> {
    const receipt = await pushPrice({ signer: this.owner, feed: this.feed(market), price: price(value) });
    return receipt.blockNumber;
  }

  head(): Promise<bigint> {
    return this.client.getBlockNumber({ cacheTime: 0 });
  }

  accountView(account: Address) {
    return this.client.readContract({ address: this.chain.contracts.marginEngine, abi: marginEngineAbi, functionName: 'accountOf', args: [account] });
  }

  /** Every shortfall row of this chain, by account and episode. */
  async episodes(): Promise<{ account: Address; episode: bigint; status: string; cause: unknown; reason: string }[]> {
    const rows = await this.ledger.db.select().from(shortfalls).where(eq(shortfalls.chainId, this.chain.chainId));
    return rows
      .map((row) => ({ account: row.account, episode: row.episode, status: row.status, cause: row.detail['closedBy'], reason: row.reason }))
      .sort((a, b) => a.account.localeCompare(b.account) || Number(a.episode - b.episode));
  }

  async openAccounts(): Promise<Address[]> {
    const rows = await this.ledger.db.select({ account: shortfalls.account }).from(shortfalls).where(and(eq(shortfalls.chainId, this.chain.chainId), eq(shortfalls.status, 'open')));
    return rows.map((row) => row.account).sort();
  }

  /** Forgets the chain's checkpoint and episodes (between tests that share the ledger). */
  async resetLedger(): Promise<void> {
    await this.ledger.db.delete(shortfalls).where(eq(shortfalls.chainId, this.chain.chainId));
    await this.ledger.db.delete(watcherCheckpoints).where(eq(watcherCheckpoints.chainId, this.chain.chainId));
  }
}

/** The shortfall jobs in a queue (any state), by job id. */
export async function shortfallJobs(orchestrator: Orchestrator): Promise<Map<string, ShortfallReport>> {
  const jobs = await orchestrator.queues.byName.shortfalls.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
  return new Map(jobs.map((job) => [job.id ?? '', job.data as ShortfallReport]));
}

/** Polls until `done` holds; the limit only guards against a hang (the assertion is what follows). */
export async function until(what: string, done: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until the watcher leads and its checkpoint is at the chain's head. */
export async function caughtUp(bench: WatcherBench, watcher: ChainWatcher): Promise<void> {
  const head = await bench.head();
  await until(`the watcher reaches block ${head}`, () => {
    const status = watcher.status();
    return status.state === 'following' && (status.checkpoint?.number ?? -1n) >= head && status.pendingReports === 0 && status.pendingWithdrawals === 0;
  });
}

/**
 * One seeded devnet for a whole test file; each test starts from the seeded chain and an empty
 * ledger for it (the chain is reverted after each test, with no watcher running: a revert is a
 * reorg). Returns the accessor of the file's bench.
 */
export function sharedBench(seed: SeedFile = SEED): () => WatcherBench {
  let bench: WatcherBench | undefined;
  let baseline: Hex | undefined;
  beforeAll(async () => {
    bench = await WatcherBench.start(seed);
    baseline = await bench.control.snapshot();
  });
  afterAll(async () => {
    await bench?.stop();
  });
  beforeEach(async () => {
    await bench?.resetLedger();
  });
  afterEach(async () => {
    if (bench === undefined || baseline === undefined) return;
    await bench.stopWatchers();
    await bench.control.revert({ id: baseline });
    baseline = await bench.control.snapshot();
  });
  return () => {
    if (bench === undefined) throw new Error('the bench is not started');
    return bench;
  };
}

/** Who the chain's own views say is at risk with m_eff = m (the tests' settings): E < 1.1 * MM. */
export async function atRiskByViews(bench: WatcherBench, accounts: readonly Address[]): Promise<Address[]> {
  const views = await Promise.all(accounts.map(async (account) => ({ account, view: await bench.accountView(account) })));
  return views.filter(({ view }) => view.equity * 10n < BigInt(view.maintenanceMargin) * 11n).map(({ account }) => account).sort();
}

/** A log that keeps its lines, to check what the watcher said it did. */
export class RecordingLog implements WatcherLog {
  readonly lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  debug(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  info(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  messages(level?: string): string[] {
    return this.lines.filter((line) => level === undefined || line.level === level).map((line) => line.msg);
  }
}

/** The index's accounts against the engine's own views: collateral, consent, positions, equity and requirement. */
export async function expectIndexMatchesViews(bench: WatcherBench, watcher: ChainWatcher, accounts: readonly Address[] = [0, 1, 2, 3].map(trader)): Promise<void> {
  const session = watcher.session();
  if (session === undefined) throw new Error('the watcher does not lead');
  expect([...session.index.accounts.keys()].sort()).toEqual([...accounts].sort());
  for (const account of accounts) {
    const view = await bench.accountView(account);
    const indexed = session.index.accounts.get(account);
    expect({ collateral: indexed?.collateral, consent: indexed?.crossChainConsent }).toEqual({ collateral: view.collateral, consent: view.crossChainConsent });
    expect([...(indexed?.positions ?? [])].map(([market, p]) => [market, p.size, p.entryPrice]).sort()).toEqual(view.positions.map((p) => [p.market, p.size, p.entryPrice]).sort());
    const valuation = session.index.health(account)?.valuation;
    expect({ equity: valuation?.equity, maintenance: valuation?.maintenance }).toEqual({ equity: view.equity, maintenance: view.maintenanceMargin });
  }
}

