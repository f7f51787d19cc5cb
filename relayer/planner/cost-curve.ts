import type { CostCurve } from './types.js';

/** v(x): the variable cost of taking x. */
export function variableCost(curve: CostCurve, x: number): number {
  if (x <= 0) return 0;
  switch (curve.type) {
    case 'linear':
      return curve.rate * x;
    case 'quadratic':
      return curve.a * x + curve.b * x * x;
    case 'cpmm': {
      const { reserveIn, reserveOut, fee } = curve;
      if (x >= reserveOut) return Number.POSITIVE_INFINITY;
      return (reserveIn * x) / ((reserveOut - x) * (1 - fee)) - (x * reserveIn) / reserveOut;
    }
  }
}

/** v'(x): the marginal cost at x. */
export function marginalCost(curve: CostCurve, x: number): number {
  switch (curve.type) {
    case 'linear':
      return curve.rate;
    case 'quadratic':
      return curve.a + 2 * curve.b * x;
    case 'cpmm': {
      const { reserveIn, reserveOut, fee } = curve;
      if (x >= reserveOut) return Number.POSITIVE_INFINITY;
      const left = reserveOut - x;
      return (reserveIn * reserveOut) / (left * left * (1 - fee)) - reserveIn / reserveOut;
    }
  }
}

/** Whether v' is constant: such an option takes all or nothing at a given multiplier. */
export const isLinear = (curve: CostCurve): boolean => curve.type === 'linear' || (curve.type === 'quadratic' && curve.b === 0);

/**
 * The x in [0, cap] where v'(x) + slope = mu (the amount an option takes when the marginal
 * cost of the whole plan is mu). For a linear curve it is 0 below the rate and cap above it;
 * exactly at the rate it is taken as 0 (the allocator settles ties).
 */
export function amountAtMarginal(params: { curve: CostCurve; slope: number; cap: number; mu: number }): number {
  const { curve, slope, cap } = params;
  const target = params.mu - slope;
  let x: number;
  switch (curve.type) {
    case 'linear':
      return target > curve.rate ? cap : 0;
    case 'quadratic':
      if (curve.b === 0) return target > curve.a ? cap : 0;
      x = (target - curve.a) / (2 * curve.b);
      break;
    case 'cpmm': {
      const { reserveIn, reserveOut, fee } = curve;
      const denominator = (1 - fee) * (target + reserveIn / reserveOut);
      if (denominator <= 0) return 0;
      x = reserveOut - Math.sqrt((reserveIn * reserveOut) / denominator);
      break;
    }
  }
  return x <= 0 ? 0 : x >= cap ? cap : x;
}
