import { marketAt, marketIndex, type MarketCatalog } from './market-catalog.js';
import { validatePriceRound } from './price-round.js';
import type { MarketState, PriceRound } from './types.js';
import { updateVariance } from './volatility.js';

/**
 * The market states after some rounds (indexed like the catalog), or undefined when none of
 * them is new: a round not newer by roundId than a market's last is a repeat. Every round is
 * validated before any is used, so a bad one leaves nothing half applied.
 */
export function statesAfterRounds(params: {
  catalog: MarketCatalog;
  states: readonly MarketState[];
  rounds: readonly PriceRound[];
  lambda: number;
}): MarketState[] | undefined {
  const { catalog, rounds, lambda } = params;
  const indices = rounds.map((round) => {
    validatePriceRound(round);
    return marketIndex(catalog, round.market);
  });
  const states = [...params.states];
  let changed = false;
  rounds.forEach((round, i) => {
    const index = indices[i] ?? 0;
    const state = states[index];
    if (state === undefined || (state.round !== undefined && round.roundId <= state.round.roundId)) return;
    // The first round has no return to learn from: the prior variance stands.
    const variance =
      state.round === undefined
        ? state.variance
        : updateVariance({ variance: state.variance, previous: state.round, next: round, lambda, floor: marketAt(catalog, index).varianceFloor });
    states[index] = { round, variance };
    changed = true;
  });
  return changed ? states : undefined;
}
