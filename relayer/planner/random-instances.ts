/** Seeded random planner instances, shared by the planner's tests and its benchmark. */
import { SeededRandom } from '../seeded-random.js';
import type { CostCurve, PlanInstance, PlanOption } from './types.js';

/** A seeded generator as a plain function (the same sequence as SeededRandom). */
export function seededRandom(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

/**
 * A random instance whose required amount and capacities are whole multiples of `unit`, so a
 * brute force over that grid can represent every capacity exactly.
 */
export function randomInstance(params: { random: () => number; options: number; unit: number; curves: readonly CostCurve['type'][] }): PlanInstance {
  const { random, unit, curves } = params;
  const units = (low: number, high: number): number => unit * (low + Math.floor(random() * (high - low + 1)));
  const options: PlanOption[] = Array.from({ length: params.options }, (_, i) => {
    const type = curves[Math.floor(random() * curves.length)] ?? 'linear';
    const capacity = units(2, 30);
    const cost: CostCurve =
      type === 'linear'
        ? { type, rate: random() * 0.02 }
        : type === 'quadratic'
          ? { type, a: random() * 0.01, b: random() * 2e-5 }
          : { type, reserveIn: capacity * (3 + random() * 20), reserveOut: capacity * (3 + random() * 20), fee: random() * 0.01 };
    return { id: `option-${i}`, capacity, fixedCost: random() * 3, latency: Math.floor(random() * 5) * 6, cost };
  });
  return { required: units(1, 50), riskPerSecond: random() * 0.2, options };
}
