/**
 * Seeded randomness for the simulator: every stream (the population, each market's path) has
 * its own generator derived from the scenario seed and a label, so adding a market does not
 * shift the draws of another and the same seed gives the same run on every machine.
 */
import { seededRandom } from '../planner/random-instances.js';

export type Random = () => number;

/** An independent stream for `label` under `seed` (FNV-1a of the label, mixed with the seed). */
export function streamFor(seed: number, label: string): Random {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return seededRandom(hash >>> 0);
}

/** A standard normal draw (Box-Muller; 1 - u keeps the logarithm finite). */
export function normal(random: Random): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A Poisson count with mean `mean` (Knuth; the simulator's means per step are small). */
export function poisson(random: Random, mean: number): number {
  const limit = Math.exp(-mean);
  let count = 0;
  let product = random();
  while (product > limit) {
    count++;
    product *= random();
  }
  return count;
}
