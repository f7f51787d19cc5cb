import type { CompiledAccount } from './compiled-account.js';
import { snapshotAt, type MarketTable } from './market-table.js';
import { floorDiv } from './units.js';

/** E = C + sum p_i (P_i - e_i), exact, over the catalog denominator Q; undefined when a price is missing. */
export function equityNumerator(account: CompiledAccount, table: MarketTable): bigint | undefined {
  let sum = account.base;
  for (const leg of account.legs) {
    const price = snapshotAt(table, leg.market).price;
    if (price === undefined) return undefined;
    sum += leg.scaledSize * price;
  }
  return sum;
}

/** Equity in USD base units, rounded down (as the MarginEngine rounds it). */
export function equity(account: CompiledAccount, table: MarketTable): bigint | undefined {
  const numerator = equityNumerator(account, table);
  return numerator === undefined ? undefined : floorDiv(numerator, table.catalog.denominator);
}
