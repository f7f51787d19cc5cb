/** Seeded random planner instances, shared by the planner's tests and its benchmark. */
import type { CostCurve, PlanInstance, PlanOption } from './types.js';

/** A small seeded generator (mulberry32): the same seed gives the same instances. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
