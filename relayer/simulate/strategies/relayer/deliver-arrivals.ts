/**
 * Legs landing on the home chain at the start of a step (one delivery transaction each, on the
 * home chain): collateral is credited in full, it is the account's own money; liquidity becomes
 * the home backstop's margin (the home vault's reserve), and the backstop absorbs up to the
 * leg's size of its market, as `absorbUpTo` allows now (engine-absorb.ts): nothing if the
 * account is back at or above initial margin, or flat; the margin stays with the backstop.
 */
import { positionIn } from '../../execution/account-levels.js';
import { engineAbsorbUpTo } from '../../execution/engine-absorb.js';
import { chargeGas } from '../../execution/gas.js';
import { engineLevels, type RelayerContext } from './relayer-context.js';

export function deliverArrivals(context: RelayerContext): void {
  const { state } = context;
  const { book, world } = state;
  for (const arrival of context.arrivals.take(world.step)) {
    const { account } = arrival;
    const home = book.home[account] ?? 0;
    chargeGas(state, home);
    if (arrival.kind === 'collateral') {
      book.collateral[account] = (book.collateral[account] ?? 0) + arrival.amount;
      state.inFlightCollateral[account] = (state.inFlightCollateral[account] ?? 0) - arrival.amount;
      state.tally.transfer({ step: world.step, account, kind: 'credit', amount: arrival.amount });
      continue;
    }
    state.vault.receive(home, arrival.amount);
    const position = positionIn(state, account, arrival.market);
    if (position !== undefined) engineAbsorbUpTo({ state, account, position, maxSize: arrival.size, levels: engineLevels(context, account) });
  }
}
