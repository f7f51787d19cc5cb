/**
 * The smallest share phi in (0, 1] of an account's positions whose action reaches a goal, for
 * a gain g(phi) that is concave with g(0) = 0 (relief grows linearly with phi while slippage
 * is convex, so g rises, peaks, and may fall). Returns undefined when no phi reaches the goal.
 * Bisection and golden-section search: no derivative, robust to -Infinity (an unfillable size).
 */
const ITERATIONS = 64;
const GOLDEN = (Math.sqrt(5) - 1) / 2;

export function smallestFraction(gain: (fraction: number) => number, goal: number): number | undefined {
  if (goal <= 0) return 0;
  let high = 1;
  if (!(gain(1) >= goal)) {
    high = argmax(gain);
    if (!(gain(high) >= goal)) return undefined;
  }
  let low = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const mid = (low + high) / 2;
    if (gain(mid) >= goal) high = mid;
    else low = mid;
  }
  return high;
}

/** Golden-section search for the maximum of a concave function on [0, 1]. */
function argmax(f: (x: number) => number): number {
  let a = 0;
  let b = 1;
  let c = b - GOLDEN * (b - a);
  let d = a + GOLDEN * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < ITERATIONS; i++) {
    // Ties (both -Infinity past an unfillable size) go left, towards what can be filled.
    if (fc >= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - GOLDEN * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + GOLDEN * (b - a);
      fd = f(d);
    }
  }
  return (a + b) / 2;
}
