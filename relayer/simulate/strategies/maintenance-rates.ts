import type { RunState } from '../strategy.js';

/** The static maintenance fraction of each slot's market: the look level of the blunt strategies. */
export function maintenanceRates(state: RunState): Float64Array {
  const { world } = state;
  const rates = new Float64Array(world.chainCount * world.marketCount);
  rates.forEach((_, slot) => {
    rates[slot] = state.maintenance[world.marketOf(slot)] ?? 0;
  });
  return rates;
}
