/**
 * What one chain's vault may still send for a takeover: its reserve, but no more than its
 * equity with the backstop's inventory marked at what selling it into the pools would fetch
 * (stressed equity), less the initial margin that inventory ties up at the oracle. A vault
 * whose stressed equity is gone (or all committed) offers 0: it takes nothing more.
 */
import { stressedEquity } from '../../inventory-exit.js';
import type { RunState } from '../../strategy.js';

export function vaultCapacity(state: RunState, chain: number): number {
  const { world, vault } = state;
  const reserve = vault.reserve[chain] ?? 0;
  const backed = stressedEquity({ world, vault, chain }) - vault.committed(chain, world.oraclePrices);
  return Math.max(0, Math.min(reserve, backed));
}
