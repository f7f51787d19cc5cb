/**
 * Carrying out one decision of the core in the simulated world, under the contracts' rules
 * only (DESIGN.md section 4). Nothing is decided here: each leg is done as the core sized it,
 * or less where the world allows less.
 * - local (a plan's, or a home action's): `liquidate` of that ONE market's position into the
 *   home pool now, `amount` USD of notional, capped by the engine's rule at this moment
 *   (engine-liquidate.ts); one home transaction.
 * - collateral: the account's surplus leaves the source chain now (its gas and the message
 *   fee now) and is credited after the transport's latency (deliver-arrivals.ts).
 * - liquidity: the vault's reserve leaves the source chain now; on landing it becomes the home
 *   backstop's margin and the backstop absorbs up to the decided size, as `absorbUpTo` allows
 *   then. The size is the leg's notional at today's oracle, as the node puts it in the message.
 * - auction: `startAuction` of `amount` USD of notional of that market's position now (one home
 *   transaction); the world's takers fill it from the next step on (engine-auction.ts).
 */
import { usdOf, type PolicyDecision, type PolicyLeg } from '../../../policy/index.js';
import { positionIn } from '../../execution/account-levels.js';
import { engineLiquidate } from '../../execution/engine-liquidate.js';
import { chargeGas } from '../../execution/gas.js';
import { stepsFor } from './arrivals.js';
import { engineLevels, type RelayerContext } from './relayer-context.js';
import { vaultCapacity } from './vault-capacity.js';

/** Home-chain actions first, as the node's closed loop mines them first. */
const ORDER: Record<PolicyLeg['kind'], number> = { local: 0, auction: 0, liquidity: 1, collateral: 2 };

export function applyDecision(params: { context: RelayerContext; account: number; decision: Extract<PolicyDecision, { kind: 'home' | 'plan' }> }): void {
  const { context, account, decision } = params;
  const legs = [...decision.legs].sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
  for (const leg of legs) {
    if (leg.kind === 'local') localLeg({ context, account, leg, reason: decision.kind });
    else if (leg.kind === 'liquidity') sendLiquidity({ context, account, leg });
    else if (leg.kind === 'collateral') sendCollateral({ context, account, leg });
    else startAuction({ context, account, leg });
  }
}

function startAuction(params: { context: RelayerContext; account: number; leg: Extract<PolicyLeg, { kind: 'auction' }> }): void {
  const { context, account, leg } = params;
  const { state } = context;
  const market = context.marketIndex.get(leg.marketId);
  const position = market === undefined ? undefined : positionIn(state, account, market);
  if (position === undefined) return;
  context.auctions.start({ account, position, notional: usdOf(leg.amount), relief: leg.relief });
  // One home transaction, even if the engine refused it.
  chargeGas(state, state.book.home[account] ?? 0);
}

function localLeg(params: { context: RelayerContext; account: number; leg: Extract<PolicyLeg, { kind: 'local' }>; reason: 'home' | 'plan' }): void {
  const { context, account, leg } = params;
  const { state } = context;
  const market = context.marketIndex.get(leg.marketId);
  const position = market === undefined ? undefined : positionIn(state, account, market);
  if (position === undefined) return;
  engineLiquidate({ state, account, position, notional: usdOf(leg.amount), reason: params.reason, levels: engineLevels(context, account) });
  // One home transaction, even if the engine refused it (the node would have sent it).
  chargeGas(state, state.book.home[account] ?? 0);
}

function sendCollateral(params: { context: RelayerContext; account: number; leg: Extract<PolicyLeg, { kind: 'collateral' }> }): void {
  const { context, account, leg } = params;
  const { state } = context;
  const { book } = state;
  const remote = remoteIndex(context, account, leg.sourceChainId);
  if (remote === undefined) return;
  const sent = Math.min(usdOf(leg.amount), book.remoteCollateral[remote] ?? 0);
  if (!(sent > 0)) return;
  book.remoteCollateral[remote] = (book.remoteCollateral[remote] ?? 0) - sent;
  state.inFlightCollateral[account] = (state.inFlightCollateral[account] ?? 0) + sent;
  state.tally.transfer({ step: state.world.step, account, kind: 'send', amount: sent });
  dispatch({ context, chain: leg.sourceChainId, transport: leg.transport });
  context.arrivals.schedule({ kind: 'collateral', account, dueStep: dueStep(context, leg.latencySeconds), relief: leg.relief, amount: sent });
}

function sendLiquidity(params: { context: RelayerContext; account: number; leg: Extract<PolicyLeg, { kind: 'liquidity' }> }): void {
  const { context, account, leg } = params;
  const { state } = context;
  const { world, book } = state;
  const market = context.marketIndex.get(leg.marketId);
  if (market === undefined) return;
  const sent = Math.min(usdOf(leg.amount), vaultCapacity(state, leg.sourceChainId));
  if (!(sent > 0)) return;
  const oracle = world.oraclePrices[world.slot(book.home[account] ?? 0, market)] ?? 0;
  state.vault.send(leg.sourceChainId, sent);
  state.tally.liquiditySent(sent);
  dispatch({ context, chain: leg.sourceChainId, transport: leg.transport });
  context.arrivals.schedule({
    kind: 'liquidity',
    account,
    dueStep: dueStep(context, leg.latencySeconds),
    relief: leg.relief,
    amount: sent,
    market,
    size: oracle > 0 ? usdOf(leg.absorbNotional) / oracle : 0,
  });
}

/** The source chain's transaction and the transport's message fee, now. */
function dispatch(params: { context: RelayerContext; chain: number; transport: 'layerzero' | 'wormhole' }): void {
  const { state } = params.context;
  chargeGas(state, params.chain);
  state.tally.messageFees += state.scenario.chains[params.chain]?.transports[params.transport]?.feeUsd ?? 0;
}

function dueStep(context: RelayerContext, latencySeconds: number): number {
  const { world } = context.state;
  return world.step + stepsFor(latencySeconds, world.stepSeconds);
}

function remoteIndex(context: RelayerContext, account: number, chain: number): number | undefined {
  const { book } = context.state;
  const end = book.remoteStart[account + 1] ?? 0;
  for (let r = book.remoteStart[account] ?? 0; r < end; r++) if ((book.remoteChain[r] ?? -1) === chain) return r;
  return undefined;
}
