import type { CompiledAccount } from './compiled-account.js';
import { snapshotAt, type MarketTable } from './market-table.js';
import { RATE_SCALE } from './units.js';

/**
 * The decision for one account, exact: the incremental index and the full scan both end here.
 * Healths are exact numerators over Q * RATE_SCALE; comparing them with 0 involves no
 * rounding, so a decision is monotone in every price and never flips on a rounding step.
 */
export interface AccountVerdict {
  readonly atRisk: boolean;
  /** Every market of the account has a price that is not stale: only then do prices decide. */
  readonly fresh: boolean;
  /** E - MM_eff * (1 + warn); undefined when a price is missing. */
  readonly warnHealth: bigint | undefined;
  /** E - sum |p| P f (forecast.ts); undefined when a price is missing or the mode is off. */
  readonly forecastHealth: bigint | undefined;
}

const UNPRICED: AccountVerdict = { atRisk: true, fresh: false, warnHealth: undefined, forecastHealth: undefined };

/**
 * equityNumerator and requirementNumerator (warn rate, forecast rates) fused into one pass:
 * this runs for every account on a full scan, so it avoids their closures and repeated loops.
 */
export function accountVerdict(account: CompiledAccount, table: MarketTable): AccountVerdict {
  const forecast = table.config.forecast !== undefined;
  let fresh = true;
  let equity = account.base;
  let warn = 0n;
  let expected = 0n;
  for (const leg of account.legs) {
    const market = snapshotAt(table, leg.market);
    const price = market.price;
    if (price === undefined) return UNPRICED;
    if (market.freshness !== 'fresh') fresh = false;
    equity += leg.scaledSize * price;
    const notional = leg.scaledAbsSize * price;
    warn += notional * market.warnRate;
    const rates = market.forecastRates;
    if (rates !== undefined) expected += notional * (leg.long ? rates.long : rates.short);
  }
  const scaledEquity = equity * RATE_SCALE;
  const warnHealth = scaledEquity - warn;
  const forecastHealth = forecast ? scaledEquity - expected : undefined;
  const atRisk = !fresh || warnHealth < 0n || (forecastHealth !== undefined && forecastHealth < 0n);
  return { atRisk, fresh, warnHealth, forecastHealth };
}
