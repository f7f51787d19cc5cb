import type { CostCurve, PlanInstance } from '../../relayer/planner/types.js';

/** v(x), written out again here so the reference shares no code with the planner. */
function curveCost(curve: CostCurve, x: number): number {
  if (x === 0) return 0;
  if (curve.type === 'linear') return curve.rate * x;
  if (curve.type === 'quadratic') return curve.a * x + curve.b * x * x;
  const paid = (curve.reserveIn * x) / ((curve.reserveOut - x) * (1 - curve.fee));
  return paid - (x * curve.reserveIn) / curve.reserveOut;
}

/**
 * The optimum over allocations in whole multiples of `unit`, by exhaustive dynamic
 * programming: for every possible slowest latency, dp[k] is the cheapest way to cover k units
 * with the options allowed so far (fixed cost paid when an option takes anything).
 * Returns the cost and how much was covered (all of it, or every option's capacity).
 */
export function bruteForceOnGrid(instance: PlanInstance, unit: number): { cost: number; covered: number } {
  const capacityUnits = instance.options.map((option) => Math.round(option.capacity / unit));
  const coverable = capacityUnits.reduce((a, b) => a + b, 0);
  const target = Math.min(Math.round(instance.required / unit), coverable);
  if (target === 0) return { cost: 0, covered: 0 };
  let best = Number.POSITIVE_INFINITY;
  for (const tau of new Set(instance.options.map((option) => option.latency))) {
    let dp = new Array<number>(target + 1).fill(Number.POSITIVE_INFINITY);
    dp[0] = 0;
    instance.options.forEach((option, i) => {
      if (option.latency > tau) return;
      const next = dp.slice();
      for (let k = 1; k <= target; k += 1) {
        for (let j = 1; j <= Math.min(k, capacityUnits[i] ?? 0); j += 1) {
          const candidate = (dp[k - j] ?? Number.POSITIVE_INFINITY) + option.fixedCost + curveCost(option.cost, j * unit);
          if (candidate < (next[k] ?? Number.POSITIVE_INFINITY)) next[k] = candidate;
        }
      }
      dp = next;
    });
    best = Math.min(best, (dp[target] ?? Number.POSITIVE_INFINITY) + instance.riskPerSecond * tau);
  }
  return { cost: best, covered: target * unit };
}

/**
 * How far the grid optimum can sit above the continuous one: rounding each amount of the
 * continuous optimum to the grid moves it by at most one unit per option, at most at the
 * option's steepest marginal cost (at its capacity).
 */
export function gridErrorBound(instance: PlanInstance, unit: number): number {
  return instance.options.reduce((sum, option) => {
    const c = option.cost;
    const x = option.capacity;
    const steepest =
      c.type === 'linear'
        ? c.rate
        : c.type === 'quadratic'
          ? c.a + 2 * c.b * x
          : (c.reserveIn * c.reserveOut) / ((c.reserveOut - x) ** 2 * (1 - c.fee)) - c.reserveIn / c.reserveOut;
    return sum + steepest * unit;
  }, 0);
}
