import { amountAtMarginal, marginalCost, variableCost } from './cost-curve.js';
import type { CostCurve } from './types.js';

/** One option in a convex allocation: its curve, an extra linear cost per unit, its cap. */
export interface ConvexItem {
  readonly curve: CostCurve;
  readonly slope: number;
  readonly cap: number;
}

export interface ConvexAllocation {
  readonly amounts: number[];
  /** sum of v(x) + slope * x over the items. */
  readonly cost: number;
}

const MAX_BISECTIONS = 200;

/**
 * Minimizes sum v_i(x_i) + slope_i x_i subject to sum x_i = total, 0 <= x_i <= cap_i, for
 * convex v_i: at the optimum every item that takes a share between its bounds has the same
 * marginal cost mu. Bisection finds mu; items exactly at mu (linear ones, which take all or
 * nothing) share what is left, so the amounts add up to `total` exactly.
 * The caller guarantees sum cap_i >= total.
 */
export function allocateConvex(items: readonly ConvexItem[], total: number): ConvexAllocation {
  const n = items.length;
  const amounts = new Array<number>(n).fill(0);
  if (total <= 0 || n === 0) return { amounts, cost: 0 };

  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const item of items) {
    lo = Math.min(lo, marginalCost(item.curve, 0) + item.slope);
    hi = Math.max(hi, marginalCost(item.curve, item.cap) + item.slope);
  }
  const margin = Math.max(1, Math.abs(lo), Math.abs(hi));
  lo -= margin;
  hi += margin;
  const takenAt = (mu: number, into: number[]): number => {
    let sum = 0;
    for (let i = 0; i < n; i += 1) {
      const item = items[i] as ConvexItem;
      const x = amountAtMarginal({ curve: item.curve, slope: item.slope, cap: item.cap, mu });
      into[i] = x;
      sum += x;
    }
    return sum;
  };

  const low = new Array<number>(n).fill(0);
  const high = new Array<number>(n).fill(0);
  let takenLow = takenAt(lo, low);
  let takenHigh = takenAt(hi, high);
  for (let step = 0; step < MAX_BISECTIONS && hi - lo > 1e-13 * Math.max(1, Math.abs(hi)); step += 1) {
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    const taken = takenAt(mid, amounts);
    if (taken >= total) {
      hi = mid;
      takenHigh = taken;
      high.splice(0, n, ...amounts);
    } else {
      lo = mid;
      takenLow = taken;
      low.splice(0, n, ...amounts);
    }
  }
  // Between lo and hi only ties (and rounding) remain: share the rest in proportion.
  const share = takenHigh > takenLow ? (total - takenLow) / (takenHigh - takenLow) : 0;
  let cost = 0;
  for (let i = 0; i < n; i += 1) {
    const item = items[i] as ConvexItem;
    const x = Math.min(item.cap, (low[i] ?? 0) + share * ((high[i] ?? 0) - (low[i] ?? 0)));
    amounts[i] = x;
    cost += variableCost(item.curve, x) + item.slope * x;
  }
  return { amounts, cost };
}
