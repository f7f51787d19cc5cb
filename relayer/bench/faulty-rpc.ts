/**
 * `npm run bench:faulty-rpc`: legs credited per second while one chain's RPC misbehaves, beside
 * the same with no faults. A 3-chain devnet; alpha's RPC (the node's signers, transports and
 * reads there) goes through the faulty-RPC proxy of the devnet (chains/devnet/rpc-proxy.ts);
 * collateral legs from and to alpha, over both transports, run through the orchestrator's leg
 * workers (relayer/bench/leg-run.ts). First an untimed warm-up, then R rounds of N legs with
 * the proxy passing every call on and N with it failing every other call (HTTP 503, JSON-RPC
 * -32603, a reset, a body that does not parse, in turn); the figures are the rounds' totals.
 *
 *   npm run bench:faulty-rpc -- [--legs N] [--rounds R] [--concurrency C]
 * Uses a scratch database on RELAYER_BENCH_POSTGRES_URL (default the local server), dropped
 * after, and Redis on REDIS_URL; every anvil it starts is stopped by its PID.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevnet } from '../../chains/devnet/devnet.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import type { Manifest } from '../../chains/devnet/manifest.js';
import { seedAccounts } from '../../chains/devnet/seed.js';
import { usd } from '../../chains/protocol/units.js';
import { migrateLedger, openLedger, registerChains } from '../../db/index.js';
import { createScratchDatabase } from '../../db/scratch-database.js';
import { alternatingFaults, RpcProxy } from '../../chains/devnet/rpc-proxy.js';
import { integerOption, parseCommandLine } from '../cli/args.js';
import { createRedis } from '../orchestrator/redis.js';
import { collateralLegs, routesThrough, runLegs, type LegRun } from './leg-run.js';

const { values } = parseCommandLine(process.argv.slice(2), { legs: { type: 'string' }, rounds: { type: 'string' }, concurrency: { type: 'string' } }, 'bench:faulty-rpc [--legs N] [--rounds R] [--concurrency C]');
const count = integerOption({ name: 'legs', value: values.legs, min: 1, max: 10_000, fallback: 48 });
const rounds = integerOption({ name: 'rounds', value: values.rounds, min: 1, max: 100, fallback: 2 });
const concurrency = integerOption({ name: 'concurrency', value: values.concurrency, min: 1, max: 256, fallback: 16 });
const adminUrl = process.env.RELAYER_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const FAULTY = 'alpha';
const TRADERS = 8;

const cleanups: (() => Promise<unknown>)[] = [];
try {
  const devnet = await startDevnet({ chains: 3 });
  cleanups.push(() => devnet.stop());
  const dir = await mkdtemp(join(tmpdir(), 'bench-faulty-rpc-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const seed = { accounts: Array.from({ length: TRADERS }, (_, trader) => devnet.manifest.chains.map((chain) => ({ trader, chain: chain.key, deposit: '1000000', crossChainConsent: true }))).flat() };
  await writeFile(join(dir, 'seed.json'), JSON.stringify(seed));
  await seedAccounts({ manifest: devnet.manifest, file: join(dir, 'seed.json') });

  const database = await createScratchDatabase({ adminUrl, prefix: 'relayer_bench_' });
  cleanups.push(() => database.drop());
  const ledger = await openLedger({ target: { kind: 'postgres', url: database.url } });
  cleanups.push(() => ledger.close());
  await migrateLedger(ledger);
  await registerChains(ledger.db, devnet.manifest.chains.map((c) => ({ chainId: c.chainId, key: c.key, lzEid: c.lzEid, wormholeChainId: c.wormholeChainId, confirmations: 0 })));
  const connection = createRedis(redisUrl);
  cleanups.push(async () => connection.disconnect());

  const faulty = devnet.manifest.chains.find((chain) => chain.key === FAULTY);
  if (!faulty) throw new Error(`no chain ${FAULTY}`);
  const proxy = new RpcProxy(faulty.rpcUrl);
  const proxyUrl = await proxy.start();
  cleanups.push(() => proxy.stop());
  // The node's view of the devnet: alpha only through the proxy, faulty or not.
  const manifest: Manifest = { chains: devnet.manifest.chains.map((chain) => (chain.key === FAULTY ? { ...chain, rpcUrl: proxyUrl } : chain)) };
  const routes = routesThrough(manifest, FAULTY);
  const accounts = Array.from({ length: TRADERS }, (_, n) => devnetAccount(devnetRoles.firstTrader + n).address);
  const run = async (legs: number): Promise<LegRun> => {
    const deadline = new Date(Date.now() + 3_600_000);
    return runLegs({ manifest, ledger: ledger.db, connection, concurrency, legs: collateralLegs({ manifest, routes, accounts, count: legs, amount: usd('10'), deadline }) });
  };

  await run(routes.length); // warm-up: every route once, untimed
  // Rounds alternate the two, so a machine busy with something else slows both alike.
  const totals = { clean: { credited: 0, failed: 0, seconds: 0 }, faulty: { credited: 0, failed: 0, seconds: 0, calls: 0 } };
  const add = (total: { credited: number; failed: number; seconds: number }, result: LegRun) => {
    total.credited += result.legs.filter((leg) => leg.status === 'credited').length;
    total.failed += result.legs.filter((leg) => leg.status === 'failed').length;
    total.seconds += result.seconds;
  };
  proxy.faults.clear();
  for (let round = 0; round < rounds; round += 1) {
    proxy.policy = () => 'forward';
    add(totals.clean, await run(count));
    proxy.policy = alternatingFaults();
    const before = proxy.requests;
    add(totals.faulty, await run(count));
    totals.faulty.calls += proxy.requests - before;
  }

  const rate = (total: { credited: number; seconds: number }) => total.credited / total.seconds;
  const line = (label: string, total: { credited: number; failed: number; seconds: number }, extra = '') =>
    `${label.padEnd(42)} ${total.credited} credited, ${total.failed} failed in ${total.seconds.toFixed(2)} s: ${rate(total).toFixed(2)} legs/s${extra}\n`;
  const faults = [...proxy.faults].map(([kind, n]) => `${kind} ${n}`).join(', ');
  process.stdout.write(`legs: ${count} per run, ${rounds} rounds of each, over ${routes.length} routes from and to ${FAULTY} (collateral, LayerZero and Wormhole), leg worker concurrency ${concurrency}\n`);
  process.stdout.write(line(`${FAULTY}'s RPC passing every call on:`, totals.clean));
  process.stdout.write(line(`${FAULTY}'s RPC failing every other call:`, totals.faulty, ` (${proxy.injected()} faults in ${totals.faulty.calls} calls: ${faults})`));
  process.stdout.write(`ratio (faulty / clean):                    ${(rate(totals.faulty) / rate(totals.clean)).toFixed(2)}\n`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}
