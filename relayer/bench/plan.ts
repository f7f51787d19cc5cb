/**
 * `npm run bench:plan`: plans per second and p50/p99 time per plan at 4 to 64 options, on
 * seeded random instances mixing linear, quadratic and constant-product costs. Up to 16 options
 * every plan is proven optimal; above, the search stops at its node budget and each plan states
 * its gap bound (its cost minus a proven lower bound on the optimum): shown as the share of
 * plans still proven exact, and the mean and largest gap bound relative to the plan's cost.
 */
import { plan } from '../planner/plan.js';
import { randomInstance, seededRandom } from '../planner/random-instances.js';

const random = seededRandom(1);
const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
process.stdout.write('options  instances  plans/s  p50 ms  p99 ms  exact  mean gap  max gap (gap bound / cost)\n');
for (const options of [4, 8, 12, 16, 32, 64]) {
  const count = options <= 16 ? 2_000 : 300;
  const instances = Array.from({ length: count }, () => randomInstance({ random, options, unit: 10, curves: ['linear', 'quadratic', 'cpmm'] }));
  for (const instance of instances.slice(0, 50)) plan(instance); // warm up the JIT
  const times: number[] = [];
  const gaps: number[] = [];
  let exact = 0;
  const started = performance.now();
  for (const instance of instances) {
    const t0 = performance.now();
    const result = plan(instance);
    times.push(performance.now() - t0);
    if (result.exact) exact += 1;
    gaps.push(result.totalCost > 0 ? result.gapBound / result.totalCost : 0);
  }
  const elapsed = performance.now() - started;
  times.sort((a, b) => a - b);
  const percent = (x: number) => `${(100 * x).toFixed(2)}%`;
  process.stdout.write(
    [
      String(options).padStart(7),
      String(count).padStart(9),
      (count / (elapsed / 1000)).toFixed(0).padStart(7),
      quantile(times, 0.5).toFixed(3).padStart(6),
      quantile(times, 0.99).toFixed(3).padStart(6),
      percent(exact / count).padStart(6),
      percent(gaps.reduce((a, b) => a + b, 0) / count).padStart(8),
      percent(Math.max(...gaps)).padStart(8),
    ].join('  ') + '\n',
  );
}
