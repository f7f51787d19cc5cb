import type { CompiledAccount } from './compiled-account.js';
import { equityNumerator } from './equity.js';
import { requirementNumerator } from './maintenance.js';
import type { MarketTable } from './market-table.js';
import { ceilDiv, RATE_SCALE } from './units.js';

/**
 * The collateral (USD base units) that restores E >= MM_eff * (1 + target), and no more:
 * ceil of the exact gap, so adding it reaches the target and one base unit less does not.
 * 0 when the account is already there; undefined when a price is missing.
 */
export function requiredAmount(account: CompiledAccount, table: MarketTable): bigint | undefined {
  const e = equityNumerator(account, table);
  const target = requirementNumerator({ account, table, rateOf: (market) => market.targetRate });
  if (e === undefined || target === undefined) return undefined;
  const gap = target - e * RATE_SCALE;
  return gap > 0n ? ceilDiv(gap, table.catalog.denominator * RATE_SCALE) : 0n;
}
