import { RelayerError } from '../errors.js';
import { marketIndex, type MarketCatalog } from './market-catalog.js';
import type { AccountId, AccountState } from './types.js';
import { abs } from './units.js';

/**
 * One open position, with what the math needs precomputed. `market` is the catalog index.
 */
export interface Leg {
  readonly market: number;
  readonly long: boolean;
  /** size * unit: times a price, the position's value over the catalog denominator Q. */
  readonly scaledSize: bigint;
  /** |size| * unit. */
  readonly scaledAbsSize: bigint;
  /** |size| * unit / Q as a number: USD base units per feed unit of price (index bounds only). */
  readonly weight: number;
}

/**
 * An account validated against the catalog, with the part of its equity that does not depend
 * on prices folded into `base`, so equity over Q is `base + sum scaledSize * price`.
 */
export interface CompiledAccount {
  readonly id: AccountId;
  readonly collateral: bigint;
  /** C * Q - sum size * entry * unit. */
  readonly base: bigint;
  readonly legs: readonly Leg[];
}

export function compileAccount(state: AccountState, catalog: MarketCatalog): CompiledAccount {
  const seen = new Set<number>();
  const legs: Leg[] = [];
  let base = state.collateral * catalog.denominator;
  const q = Number(catalog.denominator);
  for (const position of state.positions) {
    const market = marketIndex(catalog, position.market);
    if (seen.has(market)) throw new RelayerError(`account ${state.account} has two positions in market ${position.market}`);
    seen.add(market);
    if (position.entryPrice < 0n) {
      throw new RelayerError(`account ${state.account}: entry price in market ${position.market} must not be negative, got ${position.entryPrice}`);
    }
    if (position.size === 0n) continue;
    const unit = catalog.priceUnits[market] ?? 1n;
    const scaledSize = position.size * unit;
    const scaledAbsSize = abs(scaledSize);
    base -= scaledSize * position.entryPrice;
    legs.push({ market, long: position.size > 0n, scaledSize, scaledAbsSize, weight: Number(scaledAbsSize) / q });
  }
  return { id: state.account, collateral: state.collateral, base, legs };
}
