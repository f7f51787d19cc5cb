import type { CompiledAccount } from './compiled-account.js';
import type { MarketSnapshot } from './market-snapshot.js';
import { snapshotAt, type MarketTable } from './market-table.js';
import { ceilDiv, RATE_SCALE } from './units.js';

/** The requirement rate (RATE_SCALE) a market charges a long or a short position. */
export type RateOf = (market: MarketSnapshot, long: boolean) => bigint;

/**
 * sum |p_i| P_i rate_i, exact, over Q * RATE_SCALE; undefined when a price is missing. Every
 * requirement (maintenance, effective, warn, target, forecast) is this sum with its own rate.
 */
export function requirementNumerator(params: { account: CompiledAccount; table: MarketTable; rateOf: RateOf }): bigint | undefined {
  const { account, table, rateOf } = params;
  let sum = 0n;
  for (const leg of account.legs) {
    const market = snapshotAt(table, leg.market);
    if (market.price === undefined) return undefined;
    sum += leg.scaledAbsSize * market.price * rateOf(market, leg.long);
  }
  return sum;
}

/** MM = sum |p_i| P_i m_i in USD base units, rounded up (as the MarginEngine rounds it). */
export function maintenanceRequirement(account: CompiledAccount, table: MarketTable): bigint | undefined {
  const numerator = requirementNumerator({ account, table, rateOf: (market) => market.maintenanceRate });
  return numerator === undefined ? undefined : ceilDiv(numerator, table.catalog.denominator * RATE_SCALE);
}

/** MM_eff = sum |p_i| P_i m_eff_i in USD base units, rounded up; undefined when a price is missing. */
export function effectiveMaintenanceRequirement(account: CompiledAccount, table: MarketTable): bigint | undefined {
  const numerator = requirementNumerator({ account, table, rateOf: (market) => market.effectiveRate });
  return numerator === undefined ? undefined : ceilDiv(numerator, table.catalog.denominator * RATE_SCALE);
}
