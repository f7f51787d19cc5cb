/**
 * `npm run bench:detect`: detection latency of a chain watcher on a devnet. One anvil chain with
 * the protocol, 50 accounts (5 leveraged ETH longs, 45 healthy shorts), the real watcher
 * (Postgres ledger, Redis lease, the orchestrator's `shortfalls` queue; no workers, so jobs stay
 * queued), polling the head every `--poll-ms`. Then `--pushes` times: an hour passes (hourly
 * rounds keep the EWMA volatility, and so m_eff, near the static margin), ETH is pushed from
 * 3000 to 2800, which puts the 5 longs below maintenance on chain, and once their 5 jobs are in
 * the queue ETH goes back to 3000 (they recover, their episodes close) before the next push.
 *
 * Prints p50/p99 of the time from the push's block being mined to the shortfall jobs being in
 * the queue (the last of the push's 5, and per job) in milliseconds, and in blocks (detected
 * block minus push block). anvil mines a transaction as it is sent (automine); "mined" is the
 * moment its receipt is first readable, asked for back to back after the send.
 *
 *   npm run bench:detect -- [--pushes N] [--poll-ms MS]
 * Uses a scratch database on RELAYER_BENCH_POSTGRES_URL (default the local server), dropped
 * after, and REDIS_URL (default redis://127.0.0.1:6379) under a fresh prefix, emptied after.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, eq } from 'drizzle-orm';
import { createScratchDatabase } from '../../db/scratch-database.js';
import type { Address, Hash } from 'viem';
import { marketPriceFeedAbi } from '../../chains/contracts/out/MarketPriceFeed.js';
import { anvilControl } from '../../chains/devnet/control.js';
import { startDevnet } from '../../chains/devnet/devnet.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { seedAccounts, type SeedFile } from '../../chains/devnet/seed.js';
import { price } from '../../chains/protocol/units.js';
import { Signer } from '../../chains/signer.js';
import { watchedChainFromManifest } from '../../chains/watch/watched-chain.js';
import { migrateLedger, openLedger, registerChains, shortfalls, type LedgerHandle } from '../../db/index.js';
import { integerOption, parseCommandLine } from '../cli/args.js';
import { errorMessage } from '../errors.js';
import { startOrchestrator, type Orchestrator } from '../orchestrator/orchestrator.js';
import { createRedis } from '../orchestrator/redis.js';
import type { ShortfallReport } from '../orchestrator/shortfall-report.js';
import { riskConfig } from '../risk/index.js';
import { RedisLease } from '../watcher/lease.js';
import { orchestratorSink, type ShortfallSink } from '../watcher/shortfall-sink.js';
import { defaultPolicySettings, fixedWorld } from '../orchestrator/fixed-world.js';
import { startChainWatcher, type ChainWatcher } from '../watcher/start-chain-watcher.js';

const USAGE = 'bench:detect [--pushes N] [--poll-ms MS]';
const LONGS = 5;
const SHORTS = 45;
const HIGH = '3000';
const LOW = '2800';

/** Records when each report's queue add resolved: the moment its job is in the queue. */
class TimedSink implements ShortfallSink {
  readonly queued = new Map<string, { at: number; block: bigint }>();
  constructor(private readonly inner: ShortfallSink) {}
  async reportShortfall(report: ShortfallReport): Promise<Hash> {
    const id = await this.inner.reportShortfall(report);
    this.queued.set(`${report.account}/${report.episode}`, { at: performance.now(), block: BigInt(report.detectedBlock) });
    return id;
  }
  withdrawShortfall(shortfallId: Hash): Promise<boolean> {
    return this.inner.withdrawShortfall(shortfallId);
  }
  reviewShortfall(shortfallId: Hash, cause: string): Promise<unknown> {
    return this.inner.reviewShortfall(shortfallId, cause);
  }
}

/** 5 longs of 3 ETH whose equity at 2800 (400 to 416) is below their maintenance (420); 45 shorts far from it. */
function seed(): SeedFile {
  const longs = Array.from({ length: LONGS }, (_, i) => ({ trader: i, chain: 'alpha', deposit: String(1000 + 4 * i), positions: [{ market: 'ETH-USD', size: '3' }] }));
  const shorts = Array.from({ length: SHORTS }, (_, i) => ({ trader: LONGS + i, chain: 'alpha', deposit: '5000', positions: [{ market: 'ETH-USD', size: `-${1 + (i % 5)}` }] }));
  return { prices: { 'ETH-USD': HIGH }, accounts: [...longs, ...shorts] };
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 1));
}


interface Run {
  readonly chain: ManifestChain;
  readonly owner: Signer;
  readonly watcher: ChainWatcher;
  readonly sink: TimedSink;
  readonly longs: readonly Address[];
}

/** One push at `value` an hour after the last; resolves when its block is mined, with the block. */
async function push(run: Run, value: string): Promise<{ minedAt: number; block: bigint; minedOnReturn: boolean }> {
  const control = anvilControl({ chainId: run.chain.chainId, rpcUrl: run.chain.rpcUrl });
  await control.increaseTime({ seconds: 3_600 });
  const feed = run.chain.markets.find((market) => market.symbol === 'ETH-USD')?.priceFeed;
  if (feed === undefined) throw new Error('no ETH-USD feed on the devnet');
  const hash = await run.owner.wallet.writeContract({ address: feed, abi: marketPriceFeedAbi, functionName: 'pushRound', args: [price(value)] });
  // anvil may answer the send a moment before the block exists: "mined" is when its receipt
  // is first readable, asked for back to back (a loopback call takes well under a millisecond).
  for (let polls = 1; ; polls++) {
    const receipt = await run.owner.public.getTransactionReceipt({ hash }).catch(() => undefined);
    if (receipt !== undefined) return { minedAt: performance.now(), block: receipt.blockNumber, minedOnReturn: polls === 1 };
  }
}

async function measure(run: Run, pushes: number) {
  const perPush: number[] = [];
  const perJob: number[] = [];
  const blocks: number[] = [];
  let minedOnReturn = 0;
  for (let episode = 1; episode <= pushes; episode++) {
    const pushed = await push(run, LOW);
    if (pushed.minedOnReturn) minedOnReturn += 1;
    const keys = run.longs.map((account) => `${account}/${episode}`);
    await until(() => keys.every((key) => run.sink.queued.has(key)));
    const seen = keys.map((key) => run.sink.queued.get(key) ?? { at: Number.NaN, block: -1n });
    perPush.push(Math.max(...seen.map((s) => s.at)) - pushed.minedAt);
    for (const s of seen) {
      perJob.push(s.at - pushed.minedAt);
      blocks.push(Number(s.block - pushed.block));
    }
    await push(run, HIGH);
    await until(() => run.watcher.status().openEpisodes === 0);
  }
  return { perPush, perJob, blocks, minedOnReturn };
}

function report(params: { pushes: number; pollMs: number; result: Awaited<ReturnType<typeof measure>>; queued: number; episodes: number }): boolean {
  const { pushes, pollMs, result, queued, episodes } = params;
  const ms = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms (min ${sorted[0]?.toFixed(1)}, max ${sorted.at(-1)?.toFixed(1)})`;
  };
  const sortedBlocks = [...result.blocks].sort((a, b) => a - b);
  console.log(`  receipt readable at the first ask after the send: ${result.minedOnReturn}/${pushes} pushes`);
  console.log(`  push block mined -> its ${LONGS} shortfall jobs in the queue: ${ms(result.perPush)}`);
  console.log(`  push block mined -> each shortfall job in the queue:  ${ms(result.perJob)}`);
  console.log(`  in blocks (detected block - push block): p50 ${percentile(sortedBlocks, 50)}, p99 ${percentile(sortedBlocks, 99)}, max ${sortedBlocks.at(-1)}`);
  const expected = pushes * LONGS;
  console.log(`  shortfall jobs queued: ${queued}, episodes in the ledger: ${episodes} (expected ${expected}: ${LONGS} accounts x ${pushes} episodes); head polled every ${pollMs} ms`);
  console.log('  (each job is withdrawn again when its account recovers, as no worker takes it here)');
  return queued === expected && episodes === expected;
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(process.argv.slice(2), { pushes: { type: 'string' }, 'poll-ms': { type: 'string' } }, USAGE);
  const pushes = integerOption({ name: 'pushes', value: values.pushes, min: 1, max: 10_000, fallback: 100 });
  const pollMs = integerOption({ name: 'poll-ms', value: values['poll-ms'], min: 1, max: 10_000, fallback: 20 });
  const adminUrl = process.env.RELAYER_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const devnet = await startDevnet({ chains: 1 });
    cleanups.push(() => devnet.stop());
    const chain = devnet.manifest.chains[0];
    if (chain === undefined) throw new Error('no devnet chain');
    const dir = await mkdtemp(join(tmpdir(), 'bench-detect-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'seed.json'), JSON.stringify(seed()));
    const seeded = await seedAccounts({ manifest: devnet.manifest, file: join(dir, 'seed.json') });

    const database = await createScratchDatabase({ adminUrl, prefix: 'relayer_bench_' });
    cleanups.push(() => database.drop());
    const ledger: LedgerHandle = await openLedger({ target: { kind: 'postgres', url: database.url } });
    cleanups.push(() => ledger.close());
    await migrateLedger(ledger);
    await registerChains(ledger.db, [{ chainId: chain.chainId, key: chain.key, lzEid: chain.lzEid, wormholeChainId: chain.wormholeChainId, confirmations: 0 }]);

    const redis = createRedis(redisUrl);
    cleanups.push(async () => redis.disconnect());
    const prefix = `bench-detect-${randomBytes(4).toString('hex')}`;
    const orchestrator: Orchestrator = startOrchestrator({ connection: redis, prefix, ledger: ledger.db, worldSource: fixedWorld(), policy: defaultPolicySettings, chainKeys: new Map(), run: [] });
    cleanups.push(async () => {
      await orchestrator.close();
      await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));
    });
    const sink = new TimedSink(orchestratorSink(orchestrator));
    const watcher = startChainWatcher({
      chain: watchedChainFromManifest(chain),
      ledger: ledger.db,
      sink,
      risk: riskConfig({ actionSeconds: 30, warn: 0.1, target: 0.25 }),
      lease: new RedisLease({ redis, name: `watcher:${chain.chainId}`, prefix, ttlMs: 5_000 }),
      pollIntervalMs: pollMs,
    });
    cleanups.push(() => watcher.stop());
    const owner = new Signer({ chainId: chain.chainId, rpcUrl: chain.rpcUrl, name: chain.key }, devnetAccount(devnetRoles.deployer));
    const head = await owner.public.getBlockNumber({ cacheTime: 0 });
    await until(() => (watcher.status().checkpoint?.number ?? -1n) >= head);
    console.log(`bench:detect: 1 devnet chain, ${seeded.length} accounts (${LONGS} liquidatable at ETH ${LOW}), ${pushes} pushes ${HIGH} -> ${LOW}, each followed by one back to ${HIGH}`);
    console.log(`  watcher: confirmations 0, risk T_act 30 s, z 3, warn 10%, target 25%; index rebuilt from block 0 up to ${head}`);

    const longs = seeded.slice(0, LONGS).map((account) => account.address);
    const result = await measure({ chain, owner, watcher, sink, longs }, pushes);
    const [row] = await ledger.db.select({ episodes: count() }).from(shortfalls).where(eq(shortfalls.chainId, chain.chainId));
    return report({ pushes, pollMs, result, queued: sink.queued.size, episodes: row?.episodes ?? 0 }) ? 0 : 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error(`cleanup failed: ${errorMessage(error)}`));
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench:detect failed: ${errorMessage(error)}`);
    process.exit(1);
  },
);
