import { allocateConvex } from './allocate.js';
import { variableCost } from './cost-curve.js';
import { solveFixedCharge } from './fixed-charge.js';
import type { Allocation, Plan, PlanInstance, PlanOption } from './types.js';

/** Up to this many options the search runs to the end: the plan is proven optimal. */
export const EXACT_OPTION_LIMIT = 16;
/** Above it, each latency class's search stops after this many nodes and states its gap. */
const HEURISTIC_NODE_BUDGET = 20_000;
const NOISE = 1e-9;

/** The real cost of an allocation: fixed and variable costs of what is used, plus the wait. */
export function planCost(instance: PlanInstance, amounts: readonly number[]): number {
  let cost = 0;
  let slowest = 0;
  instance.options.forEach((option, i) => {
    const x = amounts[i] ?? 0;
    if (x <= 0) return;
    cost += option.fixedCost + variableCost(option.cost, x);
    slowest = Math.max(slowest, option.latency);
  });
  return cost + instance.riskPerSecond * slowest;
}

/** The search's limits; the defaults are the node's. Tests change them to check the gap bound against the optimum. */
export interface PlanSettings {
  /** Up to this many options the search runs to the end (default EXACT_OPTION_LIMIT). */
  readonly exactOptionLimit?: number;
  /** Above it, nodes per latency class before the search stops (default HEURISTIC_NODE_BUDGET). */
  readonly heuristicNodeBudget?: number;
}

/**
 * The cheapest way to cover `required` (DESIGN.md section 6). The slowest leg's latency is
 * what makes the objective non-separable, so the plan fixes it: for each latency class tau
 * (ascending), only options at most that slow may be used and the wait costs riskPerSecond *
 * tau; within a class the fixed-charge problem is solved by branch and bound. Costs are never
 * negative, so once riskPerSecond * tau alone exceeds the best plan, slower classes can't win.
 * When capacity is short, everything available is used and the rest reported as uncovered.
 * Above EXACT_OPTION_LIMIT options each class's search is cut off after a node budget: the
 * plan is the best found, and `gapBound` its cost minus the smallest of the classes' proven
 * lower bounds (each the convex relaxation at its search's root, or its optimum if it finished).
 */
export function plan(instance: PlanInstance, settings: PlanSettings = {}): Plan {
  const usable = instance.options.map((option, i) => ({ option, i })).filter(({ option }) => option.capacity > 0);
  const capacity = usable.reduce((sum, { option }) => sum + option.capacity, 0);
  const target = Math.min(instance.required, capacity);
  const uncovered = Math.max(0, instance.required - capacity);
  if (target <= 0) return { allocations: [], totalCost: 0, uncovered, exact: true, gapBound: 0 };

  const nodeBudget = instance.options.length <= (settings.exactOptionLimit ?? EXACT_OPTION_LIMIT) ? Number.POSITIVE_INFINITY : (settings.heuristicNodeBudget ?? HEURISTIC_NODE_BUDGET);
  const latencies = [...new Set(usable.map(({ option }) => option.latency))].sort((a, b) => a - b);
  let bestCost = Number.POSITIVE_INFINITY;
  let bestAmounts: number[] | undefined;
  let lowerBound = Number.POSITIVE_INFINITY;
  let exact = true;
  for (const tau of latencies) {
    const wait = instance.riskPerSecond * tau;
    if (wait >= bestCost) break;
    const allowed = usable.filter(({ option }) => option.latency <= tau);
    if (allowed.reduce((sum, { option }) => sum + option.capacity, 0) < target * (1 - NOISE)) continue;
    const result = solveFixedCharge({ options: allowed.map(({ option }) => option), target, cutoff: bestCost - wait, nodeBudget });
    exact &&= result.complete;
    lowerBound = Math.min(lowerBound, wait + result.lowerBound);
    if (result.best && wait + result.best.cost < bestCost) {
      bestCost = wait + result.best.cost;
      const amounts = new Array<number>(instance.options.length).fill(0);
      allowed.forEach(({ i }, k) => {
        amounts[i] = result.best?.amounts[k] ?? 0;
      });
      bestAmounts = amounts;
    }
  }
  if (!bestAmounts) throw new Error('planner found no plan although capacity covers the target');
  const amounts = polish(instance, bestAmounts, target);
  const totalCost = planCost(instance, amounts);
  const allocations: Allocation[] = instance.options.flatMap((option, i) => ((amounts[i] ?? 0) > 0 ? [{ id: option.id, amount: amounts[i] ?? 0 }] : []));
  return { allocations, totalCost, uncovered, exact, gapBound: exact ? 0 : Math.max(0, totalCost - lowerBound) };
}

/**
 * Drops amounts that are rounding noise and re-solves the allocation over the options kept, so
 * the amounts add up to the target exactly and no option is charged for a sliver.
 */
function polish(instance: PlanInstance, amounts: readonly number[], target: number): number[] {
  const kept = instance.options.map((option, i) => ({ option, i })).filter(({ i }) => (amounts[i] ?? 0) > NOISE * Math.max(1, target));
  const solved = allocateConvex(
    kept.map(({ option }: { option: PlanOption }) => ({ curve: option.cost, slope: 0, cap: option.capacity })),
    target,
  );
  const polished = new Array<number>(instance.options.length).fill(0);
  kept.forEach(({ i }, k) => {
    polished[i] = solved.amounts[k] ?? 0;
  });
  return polished;
}
