import type { AccountColumns } from './account-columns.js';
import { slotOf, type EffectivePrice } from './effective-price.js';
import type { MarketTable } from './market-table.js';

/** A market whose round is not stale: only then do prices decide. */
export const FRESH = 0;
/** Priced but stale: every holder is at risk. */
export const STALE = 1;
/** No round yet: every holder is at risk, unpriced. */
export const MISSING = 2;

/** What the float verdict reads of the markets at one instant, in typed arrays. */
export interface FloatMarkets {
  readonly count: number;
  /** FRESH, STALE or MISSING per market. */
  readonly freshness: Uint8Array;
  /** At market * slots + slot: the effective price pi (EffectivePrice.value); 0 when unpriced. */
  readonly pi: Float64Array;
  readonly slots: number;
}

export function floatMarkets(table: MarketTable, prices: readonly (readonly EffectivePrice[] | undefined)[], slots: number): FloatMarkets {
  const count = table.markets.length;
  const freshness = new Uint8Array(count);
  const pi = new Float64Array(count * slots);
  table.markets.forEach((market, m) => {
    freshness[m] = market.price === undefined ? MISSING : market.freshness === 'fresh' ? FRESH : STALE;
    prices[m]?.forEach((price, slot) => (pi[m * slots + slot] = price.value));
  });
  return { count, freshness, pi, slots };
}

/** The worst freshness among the markets the account holds a position in. */
export function accountFreshness(columns: AccountColumns, id: number, markets: FloatMarkets): number {
  let worst = FRESH;
  const offset = id * columns.markets;
  for (let m = 0; m < markets.count; m++) if (columns.sizes[offset + m] !== 0 && (markets.freshness[m] ?? MISSING) > worst) worst = markets.freshness[m] ?? MISSING;
  return worst;
}

/** 2^-52: twice the unit roundoff of a double. */
const TWICE_ROUNDOFF = 2 ** -52;

/**
 * A condition's health H = base / Q + sum s_i pi_i (effective-price.ts) in doubles, with a bound
 * on its error: whenever |value| > error, value has the sign of the exact health, which is what
 * decides; otherwise the caller asks the exact bigint verdict.
 *
 * Why the bound holds. With u = 2^-53 every double operation and every bigint-to-double
 * conversion is correctly rounded (relative error <= u). b = Number(base) / Number(Q) carries
 * at most 3 roundings (Q itself is exact up to 1e22), s_i the same 3, pi_i 3 (Number(P (R -/+
 * g)), Number(R) for R = 1e36, the division), their product 1 more: each term at most 7. Summing
 * n + 1 terms left to right adds at most n roundings to each. So (Higham, Accuracy and
 * Stability, 3.1 and 4.2) |fl(H) - H| <= gamma_{n+7} * sum |t_i|, gamma_k = k u / (1 - k u), and
 * the float sum of |t_i| (`scale`, computed the same way) is within a factor 1 + gamma_{n+7} of
 * the exact one. For n <= 1e6, gamma_{n+7} (1 + gamma_{n+7})^2 < 1.01 (n + 7) u, and the bound
 * used, error = (n + 8) * 2u * scale, is above that by a factor near 2. A conversion that
 * overflows gives an infinite scale or a NaN value, and then nothing is decided by floats.
 */
export class FloatHealth {
  value = 0;
  error = 0;

  get decided(): boolean {
    return Math.abs(this.value) > this.error;
  }

  /** The health moved toward 0 by its error: below the exact one in magnitude, of the same sign. */
  get cautious(): number {
    return this.value > 0 ? this.value - this.error : this.value + this.error;
  }

  /** Computes the condition's health of account `id` into this. */
  compute(columns: AccountColumns, id: number, markets: FloatMarkets, condition: number): void {
    const base = columns.base[id] ?? 0;
    let value = base;
    let scale = Math.abs(base);
    let legs = 0;
    const offset = id * columns.markets;
    for (let m = 0; m < markets.count; m++) {
      const size = columns.sizes[offset + m] ?? 0;
      if (size === 0) continue;
      const term = size * (markets.pi[m * markets.slots + slotOf(condition, size > 0)] ?? Number.NaN);
      value += term;
      scale += Math.abs(term);
      legs += 1;
    }
    this.value = value;
    this.error = (legs + 8) * TWICE_ROUNDOFF * scale;
  }
}
