import { allocateConvex, type ConvexItem } from './allocate.js';
import { variableCost } from './cost-curve.js';
import type { PlanOption } from './types.js';

export interface FixedChargeSolution {
  /** Amount per option (same order as the input); zero for options not used. */
  readonly amounts: number[];
  /** Fixed costs of the options used plus their variable costs. */
  readonly cost: number;
}

export interface FixedChargeResult {
  /** The best solution under the cutoff, if any. */
  readonly best: FixedChargeSolution | undefined;
  /**
   * A proven lower bound on the optimum: when the search was cut short, the smallest
   * relaxation bound over the subtrees it left unexplored (and the best found).
   */
  readonly lowerBound: number;
  /** False when the node budget ran out before the search was complete. */
  readonly complete: boolean;
  readonly nodes: number;
}

const OPEN = 1;
const CLOSED = 0;
const FREE = 2;

/** Below this share of the target an amount is rounding noise, not a use of the option. */
const NOISE = 1e-9;

/**
 * min sum over used options of (fixedCost + v(x)) subject to sum x = target, x in [0, cap]:
 * branch and bound over which options are used. The bound is the convex relaxation in which an
 * undecided option's fixed cost is spread over its capacity (f x / cap, the convex envelope of
 * a fixed charge on [0, cap]), solved exactly by `allocateConvex`; it is exact wherever the
 * relaxed amount is 0 or the full capacity, so most nodes close without branching.
 */
export function solveFixedCharge(params: {
  options: readonly PlanOption[];
  target: number;
  /** Only solutions cheaper than this are of interest. */
  cutoff: number;
  nodeBudget: number;
}): FixedChargeResult {
  const { options, target, nodeBudget } = params;
  const n = options.length;
  const status = new Array<number>(n).fill(FREE);
  const noise = NOISE * Math.max(1, target);
  let best: FixedChargeSolution | undefined;
  let bestCost = params.cutoff;
  let nodes = 0;
  let complete = true;
  // The bound of the parent of every subtree left unexplored when the budget ran out.
  let unexploredBound = Number.POSITIVE_INFINITY;

  const trueCost = (amounts: readonly number[]): number => {
    let cost = 0;
    amounts.forEach((x, i) => {
      const option = options[i] as PlanOption;
      if (x > noise) cost += option.fixedCost + variableCost(option.cost, x);
    });
    return cost;
  };

  const visit = (parentBound: number): void => {
    if (nodes >= nodeBudget) {
      complete = false;
      unexploredBound = Math.min(unexploredBound, parentBound);
      return;
    }
    nodes += 1;
    const index: number[] = [];
    const items: ConvexItem[] = [];
    let openFixed = 0;
    let capacity = 0;
    for (let i = 0; i < n; i += 1) {
      if (status[i] === CLOSED) continue;
      const option = options[i] as PlanOption;
      index.push(i);
      items.push({ curve: option.cost, cap: option.capacity, slope: status[i] === FREE ? option.fixedCost / option.capacity : 0 });
      capacity += option.capacity;
      if (status[i] === OPEN) openFixed += option.fixedCost;
    }
    if (capacity < target - noise) return;
    const relaxed = allocateConvex(items, target);
    const bound = openFixed + relaxed.cost;
    if (bound >= bestCost - 1e-12 * Math.max(1, Math.abs(bestCost))) return;

    const amounts = new Array<number>(n).fill(0);
    index.forEach((i, k) => {
      amounts[i] = relaxed.amounts[k] ?? 0;
    });
    const cost = trueCost(amounts);
    if (cost < bestCost) {
      bestCost = cost;
      best = { amounts, cost };
    }
    // Branch on the undecided option whose relaxed fixed charge is furthest from the truth.
    let branch = -1;
    let worst = 0;
    for (const i of index) {
      if (status[i] !== FREE) continue;
      const option = options[i] as PlanOption;
      const fraction = (amounts[i] ?? 0) / option.capacity;
      const error = option.fixedCost * Math.min(fraction, 1 - fraction);
      if (fraction > NOISE && fraction < 1 - NOISE && error > worst) {
        worst = error;
        branch = i;
      }
    }
    if (branch < 0) return; // the relaxation is exact here: `cost` is this subtree's optimum
    const order = (amounts[branch] ?? 0) / (options[branch] as PlanOption).capacity >= 0.5 ? [OPEN, CLOSED] : [CLOSED, OPEN];
    for (const choice of order) {
      status[branch] = choice;
      visit(bound);
    }
    status[branch] = FREE;
  };

  visit(Number.NEGATIVE_INFINITY);
  // A pruned subtree costs at least bestCost; one left unexplored at least its parent's bound.
  return { best, lowerBound: Math.min(bestCost, unexploredBound), complete, nodes };
}
