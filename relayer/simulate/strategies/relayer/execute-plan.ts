/**
 * Carrying out a plan's allocations for one account: what acts on the home chain happens now
 * (a partial local liquidation, an absorption by the home vault), what comes from another chain
 * leaves it now and is queued to arrive after its transport's latency. Each amount is relief
 * (USD of required amount); an allocation larger than what is left of its source (two
 * transports over one reserve) is cut to what is left.
 */
import { hasPositions } from '../../book.js';
import { absorbFraction, absorbLoss } from '../../execution/absorb-positions.js';
import { closeFraction, closeLoss } from '../../execution/close-positions.js';
import { smallestFraction } from '../../execution/fraction-search.js';
import { chargeGas } from '../../execution/gas.js';
import type { Plan } from '../../../planner/types.js';
import { accountTerms } from './account-terms.js';
import type { Arrival } from './arrivals.js';
import { withoutDust } from './dust.js';
import { targetRatesOf, type RelayerContext } from './relayer-context.js';
import type { Leg, SourcingOption } from './sourcing-options.js';

/** An allocation this close to its option's capacity is the whole option (planner rounding). */
const WHOLE_OPTION = 1e-9;

/** Home-chain actions first: they change the account the later legs are sized against. */
const ORDER: Record<Leg['kind'], number> = { local: 0, liquidity: 1, collateral: 2 };

export function executePlan(params: { context: RelayerContext; account: number; options: readonly SourcingOption[]; plan: Plan }): void {
  const { context, account, options, plan } = params;
  const byId = new Map(options.map((option) => [option.option.id, option.leg]));
  const legs = plan.allocations
    .flatMap((allocation) => {
      const leg = byId.get(allocation.id);
      return leg === undefined ? [] : [{ leg, amount: allocation.amount }];
    })
    .sort((a, b) => ORDER[a.leg.kind] - ORDER[b.leg.kind]);
  for (const { leg, amount } of legs) {
    if (leg.kind === 'local') localLeg({ context, account, amount, leg });
    else if (leg.kind === 'liquidity' && leg.latency === 0) absorbNow({ context, account, relief: amount });
    else if (leg.kind === 'liquidity') sendLiquidity({ context, account, amount, leg });
    else sendCollateral({ context, account, amount, leg });
  }
}

/** Closes the share whose relief is `amount`; all of the option (the share restoring E >= MM) when that is what was planned. */
function localLeg(params: { context: RelayerContext; account: number; amount: number; leg: Extract<Leg, { kind: 'local' }> }): void {
  const { context, account, amount, leg } = params;
  const { state } = context;
  if (!hasPositions(state.book, account)) return;
  const terms = accountTerms({ state, account, targetRates: targetRatesOf(context, account) });
  const gain = (fraction: number): number => fraction * terms.target - closeLoss({ state, account, fraction, equity: terms.equity });
  const wanted = amount >= leg.capacity * (1 - WHOLE_OPTION) ? leg.maxFraction : (smallestFraction(gain, amount) ?? leg.maxFraction);
  const fraction = withoutDust(Math.min(leg.maxFraction, wanted), terms.notional);
  if (fraction <= 0) return;
  closeFraction({ state, account, fraction, reason: 'plan', permittedBelow: terms.maintenance });
  chargeGas(state, state.book.home[account] ?? 0);
}

/**
 * The home vault's backstop takes over the smallest share that covers `relief` (or what its
 * free margin allows). Also what a liquidity leg does when it arrives.
 */
export function absorbNow(params: { context: RelayerContext; account: number; relief: number; reason?: 'plan' | 'arrival' }): void {
  const { context, account, relief } = params;
  const { state } = context;
  if (relief <= 0 || !hasPositions(state.book, account)) return;
  const home = state.book.home[account] ?? 0;
  const terms = accountTerms({ state, account, targetRates: targetRatesOf(context, account) });
  const gain = (fraction: number): number => fraction * terms.target - absorbLoss({ state, account, fraction, equity: terms.equity });
  const affordable = terms.initialMargin > 0 ? state.vault.free(home, state.world.oraclePrices) / terms.initialMargin : 0;
  const wanted = withoutDust(smallestFraction(gain, relief) ?? 1, terms.notional);
  const fraction = Math.min(affordable, wanted);
  if (fraction <= 0) return;
  absorbFraction({ state, account, fraction, reason: params.reason ?? 'plan', permittedBelow: terms.target });
  chargeGas(state, home);
}

function sendLiquidity(params: { context: RelayerContext; account: number; amount: number; leg: Extract<Leg, { kind: 'liquidity' }> }): void {
  const { context, account, leg } = params;
  const { state } = context;
  const sent = Math.min(params.amount / leg.reliefPerVaultUsd, state.vault.free(leg.chain, state.world.oraclePrices));
  if (sent <= 0) return;
  const relief = sent * leg.reliefPerVaultUsd;
  state.vault.send(leg.chain, sent);
  state.tally.liquiditySent(sent);
  dispatch({ context, chain: leg.chain, latency: leg.latency, fee: leg.fee, arrival: { account, kind: 'liquidity', relief, amount: sent } });
}

function sendCollateral(params: { context: RelayerContext; account: number; amount: number; leg: Extract<Leg, { kind: 'collateral' }> }): void {
  const { context, account, leg } = params;
  const { state } = context;
  const sent = Math.min(params.amount, state.book.remoteCollateral[leg.remote] ?? 0);
  if (sent <= 0) return;
  state.book.remoteCollateral[leg.remote] = (state.book.remoteCollateral[leg.remote] ?? 0) - sent;
  state.inFlightCollateral[account] = (state.inFlightCollateral[account] ?? 0) + sent;
  state.tally.transfer({ step: state.world.step, account, kind: 'send', amount: sent });
  dispatch({ context, chain: leg.chain, latency: leg.latency, fee: leg.fee, arrival: { account, kind: 'collateral', relief: sent, amount: sent } });
}

/** The source chain's transaction and message fee now; the relief counts as pending until it lands. */
function dispatch(params: { context: RelayerContext; chain: number; latency: number; fee: number; arrival: Arrival }): void {
  const { context, arrival } = params;
  const account = arrival.account;
  const { state } = context;
  chargeGas(state, params.chain);
  state.tally.messageFees += params.fee;
  context.pending[account] = (context.pending[account] ?? 0) + arrival.relief;
  context.arrivals.schedule({ sentAt: state.world.step, latencySeconds: params.latency, stepSeconds: state.world.stepSeconds, arrival });
}
