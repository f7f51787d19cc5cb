/**
 * Above 16 options the planner's search stops at a node budget and the plan carries its gap
 * bound: cost minus a proven lower bound on the optimum. The yardstick is the same search run
 * to the end (at 17 and 18 options, where that still takes moments): its optimum must lie
 * between the bound and the plan's cost, at the node's budget (these instances mostly finish
 * within it) and at budgets small enough that every search is cut short. At 64 options,
 * planning never fails.
 */
import { describe, expect, it } from 'vitest';
import { plan } from '../../relayer/planner/plan.js';
import { randomInstance, seededRandom } from '../../relayer/planner/random-instances.js';
import type { PlanInstance } from '../../relayer/planner/types.js';
import { expectFeasible } from './expect-feasible.js';

const CURVES = ['linear', 'quadratic', 'cpmm'] as const;
const TOLERANCE = 1e-7;

function expectCoveredWhenItCanBe(instance: PlanInstance, result: ReturnType<typeof plan>): void {
  const capacity = instance.options.reduce((sum, option) => sum + option.capacity, 0);
  if (capacity >= instance.required) expect(result.uncovered).toBe(0);
  else expect(result.uncovered).toBeCloseTo(instance.required - capacity, 6);
}

describe('the planner above 16 options', () => {
  it('states a bound the true optimum lies within, at 17 and 18 options', () => {
    const random = seededRandom(2026);
    let bounded = 0;
    for (const [options, heuristicNodeBudget] of [[17, undefined], [18, undefined], [17, 3], [18, 12]] as const) {
      for (let k = 0; k < 40; k += 1) {
        const instance = randomInstance({ random, options, unit: 10, curves: CURVES });
        const result = plan(instance, heuristicNodeBudget === undefined ? {} : { heuristicNodeBudget });
        expectFeasible(instance, result);
        expectCoveredWhenItCanBe(instance, result);
        expect(result.gapBound).toBeGreaterThanOrEqual(0);
        if (result.exact) expect(result.gapBound).toBe(0);
        else bounded += 1;
        const optimum = plan(instance, { exactOptionLimit: Number.POSITIVE_INFINITY });
        expect(optimum.exact).toBe(true);
        const scale = TOLERANCE * Math.max(1, optimum.totalCost);
        expect(optimum.totalCost).toBeLessThanOrEqual(result.totalCost + scale);
        expect(optimum.totalCost).toBeGreaterThanOrEqual(result.totalCost - result.gapBound - scale);
      }
    }
    // The small budgets ran out, so the bound was put to the test, not only exactness.
    expect(bounded).toBeGreaterThan(40);
  });

  it('always plans at 64 options: feasible, covering what capacity allows, with a gap bound of at least 0', () => {
    const random = seededRandom(64);
    for (let k = 0; k < 30; k += 1) {
      const instance = randomInstance({ random, options: 64, unit: 10, curves: CURVES });
      const result = plan(instance);
      expectFeasible(instance, result);
      expectCoveredWhenItCanBe(instance, result);
      expect(result.gapBound).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(result.gapBound)).toBe(true);
    }
  });
});
