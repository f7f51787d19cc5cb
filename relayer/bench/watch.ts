/**
 * `npm run bench:watch`: the incremental risk index against the full scan on 1,000,000
 * synthetic accounts over 3 markets (seeded, so every run builds the same population). Applies
 * a 1% and then a 10% fall of every market (each move one block with a round per feed, 60 s
 * apart, so volatility and m_eff react as they would), and for each prints
 * the time of the incremental path and of a full scan, their ratio, and whether both find the
 * same at-risk accounts. Exits 1 when they differ. An optional argument sets the number of
 * accounts (for a quick run): `node --expose-gc --import tsx relayer/bench/watch.ts 100000`.
 *
 * With --expose-gc a full collection runs before each timed section: a million accounts are
 * ~800 MB of small objects, one mark-compact of them takes ~0.5 s, and without this it lands
 * in whichever section happens to allocate past the threshold, not in the one that caused it.
 */
import { errorMessage, RelayerError } from '../errors.js';
import { riskConfig } from '../risk/risk-config.js';
import { RiskEngine } from '../risk/risk-engine.js';
import { SeededRandom } from '../seeded-random.js';
import { syntheticAccounts, syntheticMarkets } from '../risk/synthetic-population.js';

const DEFAULT_ACCOUNTS = 1_000_000;
const SEED = 42;
const START = 1_700_000_000;
const MOVES_BPS = [100n, 1000n];

/** `gc` exists only under --expose-gc. */
const collect = (): void => (globalThis as { gc?: () => void }).gc?.();
const ms = (from: number): string => `${(performance.now() - from).toFixed(1)} ms`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function accountCount(arg: string | undefined): number {
  if (arg === undefined) return DEFAULT_ACCOUNTS;
  const count = Number(arg);
  if (!Number.isSafeInteger(count) || count < 1) throw new RelayerError(`the account count must be a positive integer, got '${arg}'`);
  return count;
}

function main(): number {
  const accounts = accountCount(process.argv[2]);
  const markets = syntheticMarkets();
  const config = riskConfig({ actionSeconds: 30, warn: 0.1, target: 0.25, forecastLevel: 0.05 });
  const engine = new RiskEngine({ markets: markets.map((market) => market.params), config, now: START });
  const prices = markets.map((market) => market.price);
  markets.forEach((market, i) => engine.applyPriceRound({ market: market.params.id, roundId: 1n, answer: prices[i] ?? 0n, updatedAt: START }, START));

  console.log(`bench:watch: ${accounts.toLocaleString('en-US')} accounts over ${markets.length} markets (${markets.map((m) => m.params.id).join(', ')}), seed ${SEED}`);
  console.log('  config: T_act 30 s, z 3, lambda 0.94, warn 10%, target 25%, forecast level 5%; 30% cross-margin, leverage median 4x (cap 15x)');
  const gcNote = 'gc' in globalThis ? 'a full GC before each timed section' : 'no --expose-gc: a GC pause may land in either timing';
  console.log(`  timing: ${gcNote}`);
  let started = performance.now();
  engine.upsertAccounts(syntheticAccounts({ count: accounts, markets, random: new SeededRandom(SEED) }), START);
  console.log(`  built the index in ${ms(started)}: ${engine.atRiskAccounts().length.toLocaleString('en-US')} at risk; heap ${mib(process.memoryUsage().heapUsed)}, rss ${mib(process.memoryUsage().rss)}`);

  let allEqual = true;
  let now = START;
  let roundId = 1n;
  for (const bps of MOVES_BPS) {
    now += 60;
    roundId += 1n;
    const evaluationsBefore = engine.evaluations;
    const rounds = markets.map((market, i) => {
      const answer = ((prices[i] ?? 0n) * (10_000n - bps)) / 10_000n;
      prices[i] = answer;
      return { market: market.params.id, roundId, answer, updatedAt: now };
    });
    collect();
    started = performance.now();
    const changes = engine.applyPriceRounds(rounds, now);
    const incrementalMs = performance.now() - started;
    const incremental = new Set(engine.atRiskAccounts());

    collect();
    started = performance.now();
    const scanned = engine.fullScan();
    const scanMs = performance.now() - started;

    const equal = incremental.size === scanned.size && [...scanned].every((account) => incremental.has(account));
    allEqual &&= equal;
    const reported = changes.filter((change) => change.kind === 'reported').length;
    const thresholds = engine.table.markets.map((m) => `${m.market.id} m_eff ${(Number(m.effectiveFraction) / 1e16).toFixed(2)}%`).join(', ');
    console.log(`move -${Number(bps) / 100}% on every market (${thresholds})`);
    console.log(`  incremental: ${incrementalMs.toFixed(1)} ms, ${(engine.evaluations - evaluationsBefore).toLocaleString('en-US')} accounts re-evaluated, ${reported.toLocaleString('en-US')} reported, ${(changes.length - reported).toLocaleString('en-US')} recovered`);
    console.log(`  full scan:   ${scanMs.toFixed(1)} ms, ${engine.accountCount.toLocaleString('en-US')} accounts evaluated`);
    console.log(`  ratio:       full scan / incremental = ${(scanMs / incrementalMs).toFixed(1)}x`);
    console.log(`  at risk:     incremental ${incremental.size.toLocaleString('en-US')}, full scan ${scanned.size.toLocaleString('en-US')}: ${equal ? 'same accounts' : 'DIFFERENT ACCOUNTS'}`);
  }
  console.log(allEqual ? 'ok: the incremental path and the full scan agree after every move' : 'FAILED: the incremental path and the full scan disagree');
  return allEqual ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`bench:watch: ${errorMessage(error)}`);
  process.exitCode = 2;
}
