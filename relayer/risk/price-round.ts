import { RelayerError } from '../errors.js';
import type { MarketState, PriceRound } from './types.js';

/** A feed reading the math can use: a positive answer and a real timestamp. */
export function validatePriceRound(round: PriceRound): void {
  if (round.answer <= 0n) {
    throw new RelayerError(`price round ${round.roundId} of market ${round.market} has a non-positive answer ${round.answer}`);
  }
  if (!(Number.isInteger(round.updatedAt) && round.updatedAt >= 0)) {
    throw new RelayerError(`price round ${round.roundId} of market ${round.market} has an invalid updatedAt ${round.updatedAt}`);
  }
}

export function validateMarketState(market: string, state: MarketState): void {
  if (state.round !== undefined) {
    if (state.round.market !== market) throw new RelayerError(`the state of market ${market} holds a round of market ${state.round.market}`);
    validatePriceRound(state.round);
  }
  if (!(Number.isFinite(state.variance) && state.variance >= 0)) {
    throw new RelayerError(`the state of market ${market} has an invalid variance ${state.variance}`);
  }
}
