import { RelayerError } from '../errors.js';
import { slotOf, type EffectivePrice } from './effective-price.js';

/** Fire when the slot's effective price in `market` moves to `level`: down to it if `below`, else up. */
export interface Trigger {
  readonly market: number;
  readonly slot: number;
  readonly below: boolean;
  readonly level: number;
}

/** Where triggers go: the index's trigger book (or a test's list). */
export interface TriggerSink {
  add(trigger: Trigger): void;
}

/** Budgets use slightly less than the health, so float error can only make a trigger fire early. */
const BUDGET_SHARE = 1 - 1e-9;

/**
 * Triggers that keep one condition's verdict valid: while no market's effective price has moved
 * past its trigger, the sign of H cannot have changed. The health |H| (USD base units) is split
 * into budgets in proportion to each leg's exposure c_i |pi_i|, i.e. the same relative move of
 * pi is tolerated in every market: a leg whose pi moves against the verdict by its budget fires.
 * A healthy long fires below, a healthy short above; a breached account the other way, for its
 * recovery. With a single leg the trigger is exactly the account's own breach level.
 * `prices` is indexed by market, then slot.
 */
export function placeConditionTriggers(params: {
  /** The account's row of AccountColumns.sizes: a signed size per market, 0 where it has none. */
  sizes: ArrayLike<number>;
  offset: number;
  condition: number;
  /** H in USD base units, or a bound of it nearer 0; its sign is `healthy`'s, never from rounding. */
  health: number;
  healthy: boolean;
  prices: readonly (readonly EffectivePrice[] | undefined)[];
  sink: TriggerSink;
}): void {
  const { sizes, offset, condition, healthy, prices, sink } = params;
  const budget = Math.abs(params.health) * BUDGET_SHARE;
  let exposure = 0;
  let legs = 0;
  for (let market = 0; market < prices.length; market++) {
    const size = sizes[offset + market] ?? 0;
    if (size === 0) continue;
    legs += 1;
    exposure += Math.abs(size) * Math.abs(effectivePriceAt(prices[market], slotOf(condition, size > 0)));
  }
  for (let market = 0; market < prices.length; market++) {
    const size = sizes[offset + market] ?? 0;
    if (size === 0) continue;
    const long = size > 0;
    const slot = slotOf(condition, long);
    const pi = effectivePriceAt(prices[market], slot);
    // With no exposure anywhere (every pi is 0) the budget is shared equally instead.
    const room = exposure > 0 ? (budget * Math.abs(pi)) / exposure : budget / (legs * Math.abs(size));
    const below = long === healthy;
    sink.add({ market, slot, below, level: below ? pi - room : pi + room });
  }
}

function effectivePriceAt(market: readonly EffectivePrice[] | undefined, slot: number): number {
  const price = market?.[slot];
  if (price === undefined) throw new RelayerError(`a market of the account has no effective price in slot ${slot}`);
  return price.value;
}
