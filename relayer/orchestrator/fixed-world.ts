import { varianceFromAnnualVolatility } from '../risk/index.js';
import type { AccountWorld, WorldSource } from './chain-world.js';
import type { PolicySettings } from './revision-planner.js';

/**
 * A world that does not change, for benches and tests that exercise the queues and the ledger
 * rather than the chains: the same account health, positions and sources for every account.
 */
export function fixedWorld(world: Partial<AccountWorld> = {}): WorldSource {
  const full: AccountWorld = {
    health: world.health ?? { equity: 0n, maintenance: 0n, initial: 0n },
    positions: world.positions ?? [],
    sources: world.sources ?? [],
    homeGasUsd: world.homeGasUsd ?? 0,
    markets: world.markets ?? new Map(),
    observed: world.observed ?? new Map(),
  };
  return { worldFor: async () => full };
}

/** The node config's planner defaults, as the orchestrator takes them. */
export const defaultPolicySettings: PolicySettings = {
  riskPerSecondPerUsd: 0.0001,
  minAction: 1_000_000n,
  liquidityRate: 0.002,
  homeLatencySeconds: 2,
  target: 0.2,
  latencySeconds: { layerzero: 30, wormhole: 60 },
  z: 3,
  sigmaPrior: Math.sqrt(varianceFromAnnualVolatility(0.8)),
  localImpactBudget: 0.02,
  unwindImpactBudget: 0.01,
  blockSeconds: 2,
  arbitrageHalfLifeSeconds: 0,
};
