/**
 * `npm run bench:plan`: exact plans per second at 4, 8, 12 and 16 options, on seeded random
 * instances mixing linear, quadratic and constant-product costs.
 */
import { plan } from '../planner/plan.js';
import { randomInstance, seededRandom } from '../planner/random-instances.js';

const INSTANCES = 2_000;
const random = seededRandom(1);
process.stdout.write('options  plans/s   mean ms/plan  p99 ms/plan  all exact\n');
for (const options of [4, 8, 12, 16]) {
  const instances = Array.from({ length: INSTANCES }, () => randomInstance({ random, options, unit: 10, curves: ['linear', 'quadratic', 'cpmm'] }));
  for (const instance of instances.slice(0, 100)) plan(instance); // warm up the JIT
  const times: number[] = [];
  let exact = true;
  const started = performance.now();
  for (const instance of instances) {
    const t0 = performance.now();
    exact &&= plan(instance).exact;
    times.push(performance.now() - t0);
  }
  const elapsed = performance.now() - started;
  times.sort((a, b) => a - b);
  const p99 = times[Math.floor(times.length * 0.99)] ?? Number.NaN;
  process.stdout.write(
    `${String(options).padStart(7)}  ${(INSTANCES / (elapsed / 1000)).toFixed(0).padStart(7)}   ${(elapsed / INSTANCES).toFixed(3).padStart(12)}  ${p99.toFixed(3).padStart(11)}  ${exact}\n`,
  );
}
