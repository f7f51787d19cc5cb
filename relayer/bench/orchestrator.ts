/**
 * `npm run bench:orchestrator`: pushes N synthetic shortfall reports through the real queues,
 * planner and ledger (each recorded, planned, its settlement and legs written, its flow added;
 * no chain sends) and prints shortfalls per second end to end, beside the rate of bare BullMQ
 * no-op jobs on the same Redis in the same run.
 *
 *   npm run bench:orchestrator -- [--count N] [--warmup W] [--concurrency C] [--ledger-legs L]
 * With --ledger-legs the ledger starts out holding L ended legs (db/seed-history.ts: written in
 * SQL, then VACUUM ANALYZE; needs a superuser, as the local server's postgres is): the rate
 * must not depend on how big the ledger already is. It prints the sequential and index scans
 * of the big tables during the timed run: on a big ledger none of them should be sequential.
 * Each side first runs W jobs or shortfalls that are not timed (the JIT compiles the hot paths),
 * then the N that are.
 * The script gives V8 a larger young generation (--max-semi-space-size=64): the workers allocate
 * short-lived objects fast, and with the default most of their time went to scavenges.
 * Uses a scratch database on RELAYER_BENCH_POSTGRES_URL (default the local server), dropped after.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { createScratchDatabase } from '../../db/scratch-database.js';
import { seedLedgerHistory } from '../../db/seed-history.js';
import { count as countRows, eq, sql } from 'drizzle-orm';
import { legs, migrateLedger, openLedger, registerChains, settlements } from '../../db/index.js';
import { integerOption, parseCommandLine } from '../cli/args.js';
import { defaultPolicySettings, fixedWorld } from '../orchestrator/fixed-world.js';
import { startOrchestrator } from '../orchestrator/orchestrator.js';
import { createRedis } from '../orchestrator/redis.js';
import type { ShortfallReport } from '../orchestrator/shortfall-report.js';

const { values } = parseCommandLine(
  process.argv.slice(2),
  { count: { type: 'string' }, warmup: { type: 'string' }, concurrency: { type: 'string' }, 'ledger-legs': { type: 'string' } },
  'bench:orchestrator [--count N] [--warmup W] [--concurrency C] [--ledger-legs L]',
);
const count = integerOption({ name: 'count', value: values.count, min: 1, max: 1_000_000, fallback: 10_000 });
const warmup = integerOption({ name: 'warmup', value: values.warmup, min: 0, max: 1_000_000, fallback: 2_000 });
const concurrency = integerOption({ name: 'concurrency', value: values.concurrency, min: 1, max: 1_000, fallback: 256 });
const ledgerLegs = integerOption({ name: 'ledger-legs', value: values['ledger-legs'], min: 0, max: 10_000_000, fallback: 0 });
const adminUrl = process.env.RELAYER_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';


async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Seconds for `count` items after `warmup` untimed ones; `done` counts the items finished so far. */
async function timed(side: { push: (from: number, n: number) => Promise<void>; done: () => number }): Promise<number> {
  await side.push(0, warmup);
  await until(() => side.done() >= warmup);
  const started = performance.now();
  await side.push(warmup, count);
  await until(() => side.done() >= warmup + count);
  return (performance.now() - started) / 1000;
}

/**
 * Every account's world: above maintenance and below initial margin on one ETH long (so the core
 * plans over the sources: its surplus on beta, and the vault on gamma taking over part of the
 * position), with the same health as its report (so the required amount is the report's).
 */
const MARKET = `0x${'00'.repeat(31)}01`;
const world = fixedWorld({
  health: { equity: 1_000_000_000n, maintenance: 900_000_000n, initial: 1_800_000_000n },
  positions: [
    {
      marketId: MARKET,
      notional: 10_000_000_000n,
      long: true,
      maintenanceFraction: 0.09,
      initialFraction: 0.18,
      liquidationBufferFraction: 0,
      targetFraction: 0.09 * (1 + defaultPolicySettings.target),
      penalty: 0.02,
      oraclePrice: 3_000,
      sigma: defaultPolicySettings.sigmaPrior,
      backstopNotional: 0n,
      // 2,000,000 USD at 3,000: the pool at the oracle.
      pool: { quoteReserve: 2_000_000_000_000n, baseReserve: 2_000_000 / 3_000, fee: 0.003 },
    },
  ],
  markets: new Map([[MARKET, { price: 3_000n * 10n ** 8n, size: (10n ** 22n) / 3_000n }]]),
  sources: [
    { kind: 'collateral', chainId: 2, key: 'beta', capacity: 400_000_000n, routes: [{ transport: 'layerzero', fixedCostUsd: 0.8, latencySeconds: 12 }] },
    {
      kind: 'liquidity',
      chainId: 3,
      key: 'gamma',
      capacity: 10_000_000_000n,
      routes: [
        { transport: 'wormhole', fixedCostUsd: 1.2, latencySeconds: 20 },
        { transport: 'layerzero', fixedCostUsd: 2.5, latencySeconds: 12 },
      ],
    },
  ],
  homeGasUsd: 0.3,
});

/** Sequential and index scans of the ledger's big tables so far (minus `since`), from Postgres' statistics. */
async function tableScans(since: readonly { table: string; seq: number; idx: number }[] = []) {
  // Statistics reach the shared counters when a backend goes idle, within a second.
  if (since.length > 0) await new Promise((resolve) => setTimeout(resolve, 1_500));
  const { rows } = await ledger.db.execute<{ table: string; seq: string; idx: string }>(
    sql`select relname as table, seq_scan::text as seq, coalesce(idx_scan, 0)::text as idx from pg_stat_user_tables where relname in ('shortfalls', 'settlements', 'legs', 'leg_events') order by relname`,
  );
  return rows.map((row) => {
    const before = since.find(({ table }) => table === row.table);
    return { table: row.table, seq: Number(row.seq) - (before?.seq ?? 0), idx: Number(row.idx) - (before?.idx ?? 0) };
  });
}

const database = await createScratchDatabase({ adminUrl, prefix: 'relayer_bench_' });
const ledger = await openLedger({ target: { kind: 'postgres', url: database.url } });
const connection = createRedis(redisUrl);
const prefix = `bench-${randomBytes(4).toString('hex')}`;
try {
  await migrateLedger(ledger);
  await registerChains(ledger.db, [
    { chainId: 1, key: 'alpha', lzEid: 30001, wormholeChainId: 2 },
    { chainId: 2, key: 'beta', lzEid: 30002, wormholeChainId: 4 },
    { chainId: 3, key: 'gamma', lzEid: 30003, wormholeChainId: 5 },
  ]);
  let seedSeconds = 0;
  if (ledgerLegs > 0) {
    const seeding = performance.now();
    await seedLedgerHistory(ledger.db, { legs: ledgerLegs, homeChainId: 1, sourceChainId: 2, engine: '0x00000000000000000000000000000000000e0001' });
    seedSeconds = (performance.now() - seeding) / 1000;
  }

  // Bare BullMQ: the same number of no-op jobs through one queue and worker.
  const noop = new Queue('noop', { connection, prefix });
  let noops = 0;
  const noopWorker = new Worker('noop', async () => undefined, { connection, prefix, concurrency });
  noopWorker.on('completed', () => (noops += 1));
  const bareSeconds = await timed({
    push: async (from, n) => {
      for (let i = 0; i < n; i += 1_000) await noop.addBulk(Array.from({ length: Math.min(1_000, n - i) }, (_, k) => ({ name: 'noop', data: { i: from + i + k } })));
    },
    done: () => noops,
  });
  await noopWorker.close();
  await noop.obliterate({ force: true });
  await noop.close();

  let planned = 0;
  const orchestrator = startOrchestrator({
    connection,
    prefix,
    ledger: ledger.db,
    worldSource: world,
    policy: defaultPolicySettings,
    chainKeys: new Map([[1, 'alpha'], [2, 'beta'], [3, 'gamma']]),
    concurrency: { shortfalls: concurrency, plans: concurrency },
    onPlanned: () => (planned += 1),
  });
  const report = (i: number): ShortfallReport => ({
    chainId: 1,
    engine: '0x00000000000000000000000000000000000e0001',
    account: `0x${(i + 1).toString(16).padStart(40, '0')}`,
    episode: '1',
    reason: 'breach',
    equity: '1000000000',
    maintenance: '900000000',
    requiredAmount: String(50_000_000 + (i % 1000) * 1_000_000),
    mEff: 0.05,
    detectedBlock: '1',
    detectedAt: new Date().toISOString(),
  });
  const scansBefore = await tableScans();
  const seconds = await timed({
    push: async (from, n) => {
      for (let i = 0; i < n; i += 500) await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, k) => orchestrator.reportShortfall(report(from + i + k))));
    },
    done: () => planned,
  });
  const scans = await tableScans(scansBefore);
  const failed = (await orchestrator.queues.byName.shortfalls.getFailedCount()) + (await orchestrator.queues.byName.plans.getFailedCount());
  // The run's own rows: its legs are all still planned (no sends), the seeded ones all ended.
  const legKinds = await ledger.db.select({ kind: legs.kind, n: countRows() }).from(legs).where(eq(legs.status, 'planned')).groupBy(legs.kind);
  const [revisions] = await ledger.db.select({ n: countRows() }).from(settlements);
  await orchestrator.close();
  await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));

  const endToEnd = count / seconds;
  const bare = count / bareSeconds;
  process.stdout.write(`shortfalls: ${count} (after ${warmup} untimed), worker concurrency ${concurrency}, failed jobs ${failed}, node ${process.execArgv.join(' ')}\n`);
  process.stdout.write(`ledger before the run: ${ledgerLegs === 0 ? 'empty' : `${ledgerLegs} ended legs (seeded in ${seedSeconds.toFixed(0)} s)`}\n`);
  process.stdout.write(`scans during the timed run (sequential / index): ${scans.map(({ table, seq, idx }) => `${table} ${seq}/${idx}`).join(', ')}\n`);
  process.stdout.write(`recorded: ${(revisions?.n ?? 0) - Math.ceil(ledgerLegs / 2)} revisions, legs ${legKinds.map(({ kind, n }) => `${kind} ${n}`).join(', ')}\n`);
  process.stdout.write(`end to end (record, plan, settlement + legs, flow): ${endToEnd.toFixed(0)} shortfalls/s\n`);
  process.stdout.write(`bare BullMQ no-op jobs:                           ${bare.toFixed(0)} jobs/s\n`);
  process.stdout.write(`ratio:                                            ${(endToEnd / bare).toFixed(3)}\n`);
} finally {
  connection.disconnect();
  await ledger.close();
  await database.drop();
}
