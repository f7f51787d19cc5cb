import type { CompiledAccount } from './compiled-account.js';
import type { MarketSnapshot } from './market-snapshot.js';
import { snapshotAt, type MarketTable } from './market-table.js';
import { RATE_SCALE } from './units.js';

/**
 * What makes the index possible. For a condition "E < sum |p_i| P_i g_i" (warn: g = m_eff (1 +
 * warn); forecast: g = f per side), the health H = E - sum |p_i| P_i g_i is
 *     H = base / Q + sum_long c_i P_i (1 - g_i) - sum_short c_i P_i (1 + g_i),   c_i = |p_i| u_i / Q,
 * linear in one number per market and side: the effective price pi = P (1 -/+ g). A round, a
 * volatility update and the passing of time (T_oracle) all just move pi; a single-market
 * account breaches exactly when pi crosses its own level, and a cross-margin account can be
 * bounded market by market. A slot is one (condition, side): `slotOf`.
 */
export interface EffectivePrice {
  /** P * (RATE_SCALE -/+ g): exact, to tell whether pi moved and which way. */
  readonly exact: bigint;
  /** pi in feed units, as a number: the trigger keys. */
  readonly value: number;
  /** P in feed units, as a number: the scale of the index's safety margin. */
  readonly price: number;
}

const RATE_NUMBER = Number(RATE_SCALE);

/** E < MM_eff * (1 + warn). */
export const WARN = 0;
/** E < sum |p| P f: the forecast's breach probability exceeds its level. */
export const FORECAST = 1;
/**
 * "warn or forecast" as one requirement, with the larger rate per market and side: exactly the
 * at-risk verdict for a single position, and for several a requirement at least as large as
 * either (so healthy by it means healthy by both). With the forecast off there is only WARN.
 */
export const EITHER = 2;

export const conditionCount = (forecast: boolean): number => (forecast ? 3 : 1);

export const slotOf = (condition: number, long: boolean): number => condition * 2 + (long ? 0 : 1);

/** The rate (RATE_SCALE) a slot's condition charges its side's positions in `market`. */
export function slotRate(market: MarketSnapshot, slot: number): bigint {
  const condition = slot >> 1;
  if (condition === WARN) return market.warnRate;
  const rates = market.forecastRates;
  const forecast = rates === undefined ? 0n : slot % 2 === 0 ? rates.long : rates.short;
  if (condition === FORECAST) return forecast;
  return forecast > market.warnRate ? forecast : market.warnRate;
}

/**
 * H = E - sum |p| P g for a condition, exact over Q * RATE_SCALE; undefined when a price is
 * missing. equityNumerator and requirementNumerator in one pass: the index runs it per
 * re-evaluated cross-margin account.
 */
export function conditionHealth(params: { account: CompiledAccount; table: MarketTable; condition: number }): bigint | undefined {
  const { account, table, condition } = params;
  let equity = account.base;
  let requirement = 0n;
  for (const leg of account.legs) {
    const market = snapshotAt(table, leg.market);
    const price = market.price;
    if (price === undefined) return undefined;
    equity += leg.scaledSize * price;
    requirement += leg.scaledAbsSize * price * slotRate(market, slotOf(condition, leg.long));
  }
  return equity * RATE_SCALE - requirement;
}

/** The effective prices of a market for each slot of `conditions` conditions; undefined when unpriced. */
export function effectivePrices(market: MarketSnapshot, conditions: number): readonly EffectivePrice[] | undefined {
  const price = market.price;
  if (price === undefined) return undefined;
  const prices: EffectivePrice[] = [];
  for (let slot = 0; slot < conditions * 2; slot++) {
    const rate = slotRate(market, slot);
    const exact = slot % 2 === 0 ? price * (RATE_SCALE - rate) : price * (RATE_SCALE + rate);
    prices.push({ exact, value: Number(exact) / RATE_NUMBER, price: Number(price) });
  }
  return prices;
}

