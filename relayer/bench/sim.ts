/**
 * `npm run bench:sim`: simulator throughput, in accounts x steps per second, for 10,000 and
 * 100,000 accounts and each strategy, on the march-2020 scenario's first 6 hours (the first
 * crash leg: liquidations, plans and cross-chain legs, not just quiet scans). Pool depths and
 * vault reserves grow with the account count, so the market keeps the shape the scenario gives
 * it per account (otherwise 100,000 accounts would crush pools sized for 3,000). Seeded, so
 * each run simulates the same accounts. An optional argument names another scenario file.
 */
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../errors.js';
import { loadScenario } from '../simulate/scenario/load.js';
import type { Scenario } from '../simulate/scenario/schema.js';
import { simulate } from '../simulate/simulate.js';
import { STRATEGY_NAMES } from '../simulate/strategy.js';

const DEFAULT_SCENARIO = fileURLToPath(new URL('../simulate/scenarios/march-2020.json', import.meta.url));
const ACCOUNTS = [10_000, 100_000];
const DURATION_SECONDS = 6 * 3600;

try {
  const base = await loadScenario(process.argv[2] ?? DEFAULT_SCENARIO);
  const durationSeconds = Math.min(base.durationSeconds, DURATION_SECONDS);
  process.stdout.write(`scenario ${base.name}, first ${durationSeconds / 3600} h in steps of ${base.stepSeconds} s\n`);
  process.stdout.write('accounts  strategy       steps   seconds  accounts x steps / s  liquidations\n');
  for (const accounts of ACCOUNTS) {
    const scenario = scaled({ scenario: { ...base, durationSeconds }, accounts });
    simulate({ scenario: { ...scenario, population: { ...scenario.population, accounts: 500 } } }); // warm up the JIT
    for (const strategy of STRATEGY_NAMES) {
      const started = performance.now();
      const result = simulate({ scenario, strategies: [strategy] });
      const seconds = (performance.now() - started) / 1000;
      const run = result.runs[0];
      const rate = (accounts * result.steps) / seconds;
      process.stdout.write(
        `${String(accounts).padStart(8)}  ${strategy.padEnd(13)} ${String(result.steps).padStart(6)}  ${seconds.toFixed(2).padStart(8)}  ${Math.round(rate).toLocaleString('en-US').padStart(20)}  ${String(run?.metrics.liquidations ?? 0).padStart(12)}\n`,
      );
    }
  }
} catch (error) {
  process.stderr.write(`bench:sim: ${errorMessage(error)}\n`);
  process.exitCode = 1;
}

/** The scenario with `accounts` accounts and pools and vaults scaled by the same factor. */
function scaled(params: { scenario: Scenario; accounts: number }): Scenario {
  const { scenario, accounts } = params;
  const factor = accounts / Math.max(1, scenario.population.accounts);
  return {
    ...scenario,
    population: { ...scenario.population, accounts },
    chains: scenario.chains.map((chain) => ({
      ...chain,
      vaultReserveUsd: chain.vaultReserveUsd * factor,
      pools: Object.fromEntries(Object.entries(chain.pools).map(([market, pool]) => [market, { ...pool, depthUsd: pool.depthUsd * factor }])),
    })),
  };
}
