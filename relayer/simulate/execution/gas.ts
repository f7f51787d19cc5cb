import type { RunState } from '../strategy.js';

/** One transaction on `chain`: its gas, USD, into the run's costs. */
export function chargeGas(state: RunState, chain: number): void {
  state.tally.gas += state.scenario.chains[chain]?.gasUsd ?? 0;
}
