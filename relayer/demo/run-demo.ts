import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { formatUnits } from 'viem';
import { startDevnet } from '../../chains/devnet/devnet.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import { seedAccounts } from '../../chains/devnet/seed.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { COLLATERAL_DECIMALS, PRICE_DECIMALS } from '../../chains/protocol/units.js';
import { Signer } from '../../chains/signer.js';
import { resolveNodeConfig } from '../node/config.js';
import { nodeConfigForDevnet } from '../node/devnet-config.js';
import { startNode } from '../node/start-node.js';
import { assertRedisAnswers } from '../orchestrator/redis.js';
import { reconcile } from '../reconcile/reconcile.js';
import { demoPopulation, START_PRICES } from './population.js';
import { loadScenario } from './scenario.js';
import { accountOutcome } from './account-outcome.js';
import { demoProgress, routeSummary, type DemoProgress } from './summary.js';

export interface DemoOptions {
  readonly scenarioFile: string;
  readonly chains?: number;
  readonly accounts?: number;
  readonly redisUrl: string;
  /** A Postgres ledger; absent: an embedded one (PGlite) in a temporary directory. */
  readonly databaseUrl?: string;
  /** How long settling may take after the last crash step. */
  readonly settleTimeoutMs: number;
  readonly log: (line: string) => void;
  /** Aborted (say on SIGTERM): the run stops at its next step, and its node and chains with it. */
  readonly stop?: AbortSignal;
}

export interface DemoResult {
  readonly ok: boolean;
  readonly progress: DemoProgress;
  readonly findings: number;
  /** Accounts still at risk that something could still have been done for. */
  readonly atRisk: number;
  /** Accounts still at risk that no source the contracts allow can cover, each listed with why. */
  readonly uncovered: number;
  readonly belowMaintenance: number;
}

const usdOf = (units: bigint): string => Number(formatUnits(units, COLLATERAL_DECIMALS)).toFixed(2);

/** Thrown out of a run whose `stop` signal was aborted, once it has stopped what it started. */
export class DemoStopped extends Error {
  constructor(readonly reason: unknown) {
    super(`the demo was stopped (${String(reason)})`);
  }
}

function progressLine(seconds: number, p: DemoProgress): string {
  const legs = ['planned', 'submitted', 'sent', 'verified', 'delivered', 'credited', 'failed', 'refunded'].map((s) => `${s} ${p.legs[s] ?? 0}`).join(', ');
  return `[${seconds.toFixed(0).padStart(3)} s] shortfalls ${p.shortfalls} (open ${p.open}) | settled ${p.settlements.settled ?? 0} | legs: ${legs}`;
}

const legsInFlight = (p: DemoProgress): number => ['planned', 'submitted', 'sent', 'verified', 'delivered'].reduce((sum, s) => sum + (p.legs[s] ?? 0), 0);

/** Done means every episode the crash opened has ended (the account is back above its threshold) and nothing is in flight; the wait also ends when the loop has nothing left to try. */
const finished = (p: DemoProgress): boolean => p.shortfalls > 0 && p.open === 0 && legsInFlight(p) === 0;

/** Nothing in flight and nothing changed for this long while episodes stay open: the loop has nothing left to try. */
const STUCK_MS = 20_000;

/**
 * Why an episode may stay open at the end: no source the contracts allow can cover it, what is
 * left is not worth a transaction, the chain shows the account at its target already (the
 * watcher has not closed the episode yet), or, above maintenance, a takeover costs more in
 * expectation than reducing it locally should it fall to maintenance (the loop acts then).
 */
const ACCEPTED_OPEN = new Set(['no source can cover it', 'below the smallest action', 'at its target', 'left to a local reduction']);

/**
 * The main job (DESIGN.md section 8): a devnet with the protocol, a few hundred seeded
 * accounts, one node with its watchers, a price crash, live progress, and at the end the
 * settlement summary per route, where the accounts stand on chain, and a reconciliation. OK
 * only when every account the crash put at risk is back above its threshold, none is below
 * maintenance on chain, and reconciliation finds nothing.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { log } = options;
  const scenario = await loadScenario(options.scenarioFile);
  const chains = options.chains ?? scenario.chains;
  const accounts = options.accounts ?? scenario.accounts;
  await assertRedisAnswers(options.redisUrl);
  const stop = options.stop;
  // Every wait ends early on `stop`, and every step begins by looking at it.
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop?.removeEventListener('abort', done);
      resolve();
    }
    stop?.addEventListener('abort', done, { once: true });
  });
  const stopIfAsked = () => {
    if (stop?.aborted) throw new DemoStopped(stop.reason);
  };
  const scratch = await mkdtemp(join(tmpdir(), 'relayer-demo-'));
  const devnet = await startDevnet({ chains, log: (line) => log(`devnet: ${line}`) });
  let stopNode: (() => Promise<void>) | undefined;
  try {
    stopIfAsked();
    const manifest = devnet.manifest;
    const population = demoPopulation({ scenario: { ...scenario, accounts }, chains: manifest.chains });
    const seedFile = join(scratch, 'seed.json');
    await writeFile(seedFile, JSON.stringify(population));
    const seeded = await seedAccounts({ manifest, file: seedFile });
    log(`seeded ${new Set(seeded.map((a) => a.address)).size} accounts (${seeded.length} margin accounts over ${chains} chains)`);

    const { config, env } = nodeConfigForDevnet({ manifest, redisPrefix: `demo-${randomBytes(4).toString('hex')}`, reconcileEveryMs: 5_000 });
    const node = await startNode(
      await resolveNodeConfig({
        value: config,
        source: 'devnet',
        env: { ...env, ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : { RELAYER_PGLITE_DIR: join(scratch, 'pglite') }) },
      }),
    );
    stopNode = () => node.stop();
    stopIfAsked();
    log(`node started: API at ${node.url}, ledger ${node.ledger.location}, watchers on ${node.watchers.map((w) => w.status().chain).join(', ')}`);

    const started = Date.now();
    const deployer = new Map(manifest.chains.map((c) => [c.key, new Signer({ chainId: c.chainId, rpcUrl: c.rpcUrl, name: c.key }, devnetAccount(devnetRoles.deployer))]));
    const ticker = setInterval(() => {
      void demoProgress(node.ledger.db).then((p) => log(progressLine((Date.now() - started) / 1000, p)));
    }, 1_000);
    try {
      for (const step of scenario.crash) {
        const start = START_PRICES[step.market] ?? 0;
        const price = BigInt(Math.round(start * (1 + step.move) * 10 ** PRICE_DECIMALS));
        for (const chain of manifest.chains) {
          const market = chain.markets.find((m) => m.symbol === step.market);
          const signer = deployer.get(chain.key);
          if (market && signer) await pushPrice({ signer, feed: market.priceFeed, price });
        }
        log(`crash: ${step.market} to ${(start * (1 + step.move)).toFixed(2)} (${(step.move * 100).toFixed(1)}%) on every chain`);
        await sleep(scenario.stepMs);
        stopIfAsked();
      }
      const deadline = Date.now() + options.settleTimeoutMs;
      let last = '';
      let since = Date.now();
      for (let p = await demoProgress(node.ledger.db); !finished(p) && Date.now() < deadline; p = await demoProgress(node.ledger.db)) {
        const now = JSON.stringify({ ...p, uncovered: p.uncovered.toString() });
        if (now !== last) [last, since] = [now, Date.now()];
        else if (legsInFlight(p) === 0 && Date.now() - since > STUCK_MS) break;
        await sleep(500);
        stopIfAsked();
      }
    } finally {
      clearInterval(ticker);
    }
    const progress = await demoProgress(node.ledger.db);
    log(progressLine((Date.now() - started) / 1000, progress));

    log('');
    log('settlements by route (credited legs):');
    log(`  ${'route'.padEnd(18)} ${'kind'.padEnd(11)} ${'transport'.padEnd(10)} ${'legs'.padStart(5)} ${'amount USD'.padStart(12)} ${'fees (ETH)'.padStart(12)} ${'latency s'.padStart(9)}`);
    for (const route of await routeSummary(node.ledger.db)) {
      log(
        `  ${route.route.padEnd(18)} ${route.kind.padEnd(11)} ${route.transport.padEnd(10)} ${String(route.legs).padStart(5)} ${usdOf(route.amount).padStart(12)} ${Number(formatUnits(route.feesWei, 18)).toFixed(6).padStart(12)} ${(route.latencySeconds ?? Number.NaN).toFixed(1).padStart(9)}`,
      );
    }
    log(`uncovered when planned (no option could cover it then): ${usdOf(progress.uncovered)} USD`);

    // Judged from the chains, not from the jobs: which accounts are still short.
    const outcome = await accountOutcome({ manifest, seeded, readers: deployer, ledger: node.ledger.db });
    log('');
    log(`accounts still at risk (open episodes): ${outcome.atRisk.length}; margin accounts below maintenance on chain: ${outcome.belowMaintenance.length}`);
    for (const open of outcome.atRisk) log(`  at risk: ${open.chain} ${open.account} requires ${usdOf(open.required)} USD, ${usdOf(open.inFlight)} in flight, ${open.revisions} revisions; last decision: ${open.lastDecision ?? 'none recorded'}`);
    for (const below of outcome.belowMaintenance) log(`  below maintenance: ${below.chain} ${below.account} equity ${usdOf(below.equity)} < ${usdOf(below.maintenance)} USD`);

    const tokens = new Map(manifest.chains.map((c) => [c.chainId, c.contracts.collateralToken]));
    const result = await reconcile({ context: node.context, tokens, slaSeconds: 600 });
    log('');
    log(`reconciliation: ${result.findings.length === 0 ? 'clean' : `${result.findings.length} findings`}; ${result.reconciled} legs reconciled; supply ${usdOf(result.supply.onChains)} on chains + ${usdOf(result.supply.inFlight)} in flight = ${usdOf(result.supply.issued)} issued`);
    for (const finding of result.findings) log(`  ${finding.severity} ${finding.kind} ${finding.legId ?? ''} ${JSON.stringify(finding.detail ?? {})}`);
    // An account still at risk is acceptable only when nothing is on its way and the core found no source the contracts allow.
    const uncovered = outcome.atRisk.filter((open) => open.inFlight === 0n && open.lastDecision !== undefined && ACCEPTED_OPEN.has(open.lastDecision));
    const restored = legsInFlight(progress) === 0 && uncovered.length === outcome.atRisk.length && outcome.belowMaintenance.length === 0;
    return { ok: restored && result.findings.length === 0, progress, findings: result.findings.length, atRisk: outcome.atRisk.length - uncovered.length, uncovered: uncovered.length, belowMaintenance: outcome.belowMaintenance.length };
  } finally {
    await stopNode?.();
    await devnet.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}
