/** What every plan must be, whatever its instance: feasible, and priced at what it allocates. */
import { expect } from 'vitest';
import { plan, planCost } from '../../relayer/planner/plan.js';
import type { PlanInstance } from '../../relayer/planner/types.js';

export const amountsOf = (instance: PlanInstance, result: ReturnType<typeof plan>): number[] =>
  instance.options.map((option) => result.allocations.find((a) => a.id === option.id)?.amount ?? 0);

/** Every plan must be feasible and must report the cost of what it allocates. */
export function expectFeasible(instance: PlanInstance, result: ReturnType<typeof plan>): void {
  const amounts = amountsOf(instance, result);
  const covered = amounts.reduce((a, b) => a + b, 0);
  expect(covered + result.uncovered).toBeCloseTo(instance.required, 6);
  instance.options.forEach((option, i) => {
    expect(amounts[i]).toBeGreaterThanOrEqual(0);
    expect(amounts[i]).toBeLessThanOrEqual(option.capacity * (1 + 1e-12));
  });
  expect(result.allocations.every((a) => a.amount > 0)).toBe(true);
  expect(result.totalCost).toBeCloseTo(planCost(instance, amounts), 9);
}
