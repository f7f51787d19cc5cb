/**
 * Legs landing on the home chain at the start of a step (one delivery transaction each):
 * collateral is credited in full, it is the account's own money; liquidity joins the home
 * vault, whose backstop then absorbs only what the account still requires now, net of what
 * else is in flight to it (never more: if the price recovered, the liquidity stays in the vault).
 */
import { hasPositions } from '../../book.js';
import { chargeGas } from '../../execution/gas.js';
import { absorbNow } from './execute-plan.js';
import type { RelayerContext } from './relayer-context.js';

export function deliverArrivals(context: RelayerContext): void {
  const { state } = context;
  const { book, world } = state;
  for (const arrival of context.arrivals.take(world.step)) {
    const { account } = arrival;
    const home = book.home[account] ?? 0;
    context.pending[account] = Math.max(0, (context.pending[account] ?? 0) - arrival.relief);
    chargeGas(state, home);
    if (arrival.kind === 'collateral') {
      book.collateral[account] = (book.collateral[account] ?? 0) + arrival.amount;
      state.inFlightCollateral[account] = (state.inFlightCollateral[account] ?? 0) - arrival.amount;
      state.tally.transfer({ step: world.step, account, kind: 'credit', amount: arrival.amount });
      continue;
    }
    state.vault.receive(home, arrival.amount);
    if (!hasPositions(book, account)) continue;
    const { requiredUsd } = context.bridge.assess({ book, account, time: world.time });
    const relief = Math.min(arrival.relief, requiredUsd - (context.pending[account] ?? 0));
    if (relief > 0) absorbNow({ context, account, relief, reason: 'arrival' });
  }
}
