import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseWith, readJsonFile } from '../validation.js';

/** The demo's default scenario, shipped beside this file. */
export const DEFAULT_SCENARIO = fileURLToPath(new URL('./scenarios/crash.json', import.meta.url));

const positive = z.number().positive();

/**
 * A devnet demo scenario: who trades what where, and how prices fall. Accounts are generated
 * from `seed`, so a scenario plays the same way every time.
 */
export const demoScenarioSchema = z.object({
  seed: z.number().int().min(0),
  chains: z.number().int().min(2).max(10).default(3),
  accounts: z.number().int().min(1).max(900),
  /** Per account: collateral on its home chain (USD), uniform in [min, max]. */
  deposit: z.object({ min: positive, max: positive }),
  /** Notional over collateral, uniform in [min, max]; below the initial margin's limit. */
  leverage: z.object({ min: positive, max: positive }),
  /** Share of accounts that keep consented surplus on another chain, and how much (× deposit). */
  surplus: z.object({ share: z.number().min(0).max(1), ofDeposit: z.number().min(0) }),
  /** Markets traded, with the share of longs. */
  markets: z.array(z.object({ symbol: z.string(), longShare: z.number().min(0).max(1) })).min(1),
  /** The crash: each step sets every chain's price of a market to start × (1 + move). */
  crash: z.array(z.object({ market: z.string(), move: z.number().gt(-1) })).min(1),
  /** Milliseconds between crash steps. */
  stepMs: z.number().int().min(0).default(1_000),
});

export type DemoScenario = z.output<typeof demoScenarioSchema>;

export async function loadScenario(file: string): Promise<DemoScenario> {
  const scenario = parseWith(demoScenarioSchema, await readJsonFile(file, 'scenario'), file);
  if (scenario.deposit.min > scenario.deposit.max) throw new ConfigError(`${file}: deposit: min must not exceed max`);
  if (scenario.leverage.min > scenario.leverage.max) throw new ConfigError(`${file}: leverage: min must not exceed max`);
  return scenario;
}
