/**
 * The engine's per-block notional cap per market (MarginEngine `maxNotionalPerBlock`, issue 14
 * item 5; a block is a step here) on each chain: what liquidations, absorptions and auction takes
 * may still move in a slot this step, at the oracle. A market without a cap has no limit.
 */
import type { Scenario } from '../scenario/schema.js';

export class BlockLimits {
  private readonly caps: readonly (number | undefined)[];
  private readonly used: Float64Array;
  private step = -1;

  constructor(params: { scenario: Scenario; slots: number; marketCount: number }) {
    const { scenario, marketCount } = params;
    this.caps = Array.from({ length: params.slots }, (_, slot) => scenario.markets[slot % marketCount]?.maxNotionalPerBlockUsd);
    this.used = new Float64Array(params.slots);
  }

  /** USD of notional the slot's cap leaves in `step` (Infinity without a cap). */
  left(slot: number, step: number): number {
    const cap = this.caps[slot];
    if (cap === undefined) return Number.POSITIVE_INFINITY;
    this.roll(step);
    return Math.max(0, cap - (this.used[slot] ?? 0));
  }

  /** Counts `notional` (USD) against the slot's cap in `step`. */
  use(slot: number, step: number, notional: number): void {
    if (this.caps[slot] === undefined) return;
    this.roll(step);
    this.used[slot] = (this.used[slot] ?? 0) + notional;
  }

  /** The most units of a position at `price` that fit in what the slot's cap leaves. */
  sizeWithin(slot: number, step: number, price: number): number {
    const left = this.left(slot, step);
    return left === Number.POSITIVE_INFINITY ? left : price > 0 ? left / price : 0;
  }

  private roll(step: number): void {
    if (step === this.step) return;
    this.used.fill(0);
    this.step = step;
  }
}
