import { seededRandom } from '../planner/random-instances.js';
import type { SeedFile } from '../../chains/devnet/seed.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import type { DemoScenario } from './scenario.js';

/** Prices the devnet's markets start at (chains/devnet/protocol.ts), by symbol. */
export const START_PRICES: Readonly<Record<string, number>> = { 'ETH-USD': 3_000, 'BTC-USD': 60_000, 'SOL-USD': 150 };

/**
 * The scenario's accounts as a devnet seed file: account n trades on chain n mod N, one
 * position sized by its leverage; some keep consented surplus on the next chain.
 */
export function demoPopulation(params: { scenario: DemoScenario; chains: readonly ManifestChain[] }): SeedFile {
  const { scenario, chains } = params;
  const random = seededRandom(scenario.seed);
  const between = (min: number, max: number) => min + random() * (max - min);
  const accounts: NonNullable<SeedFile['accounts']> = [];
  for (let n = 0; n < scenario.accounts; n += 1) {
    const home = chains[n % chains.length];
    const away = chains[(n + 1) % chains.length];
    const market = scenario.markets[Math.floor(random() * scenario.markets.length)];
    if (!home || !away || !market) continue;
    const deposit = Math.round(between(scenario.deposit.min, scenario.deposit.max));
    const notional = deposit * between(scenario.leverage.min, scenario.leverage.max);
    const start = START_PRICES[market.symbol] ?? 1;
    const size = (notional / start) * (random() < market.longShare ? 1 : -1);
    accounts.push({ trader: n, chain: home.key, deposit: String(deposit), positions: [{ market: market.symbol, size: size.toFixed(6) }] });
    if (random() < scenario.surplus.share) {
      accounts.push({ trader: n, chain: away.key, deposit: String(Math.round(deposit * scenario.surplus.ofDeposit)), crossChainConsent: true });
    }
  }
  return { accounts };
}
