/**
 * Closing a share of an account's positions through its home chain's pools: the one place a
 * strategy's liquidation meets the market. Execution is against the pool, valuation against
 * the oracle: the difference is slippage (pool fee included). The penalty comes out of what
 * equity is left, never into bad debt; a flat account's negative collateral is written off.
 */
import { equityOf, hasPositions } from '../book.js';
import type { LiquidationEvent, LiquidationReason } from '../events.js';
import type { RunState } from '../strategy.js';

/** Positions below this share of their size are closed outright instead of left as dust. */
const DUST_SHARE = 1e-9;

export function closeFraction(params: {
  state: RunState;
  account: number;
  fraction: number;
  reason: LiquidationReason;
  permittedBelow: number;
}): LiquidationEvent {
  const { state, account, reason, permittedBelow } = params;
  const { book, world } = state;
  const fraction = params.fraction >= 1 - DUST_SHARE ? 1 : params.fraction;
  const prices = world.oraclePrices;
  const equityBefore = equityOf({ book, account, prices, marketCount: world.marketCount });
  const chain = book.home[account] ?? 0;
  let notional = 0;
  let pnlAtOracle = 0;
  let slippage = 0;
  let nominalPenalty = 0;
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) {
    const size = book.positionSize[k] ?? 0;
    if (size === 0) continue;
    const market = book.positionMarket[k] ?? 0;
    const slot = world.slot(chain, market);
    const oracle = prices[slot] ?? 0;
    const entry = book.positionEntry[k] ?? 0;
    const pool = world.pool(slot);
    const fundamental = world.fundamental(market);
    // The block's cap holds blunt liquidation too: what it leaves waits for the next step.
    const allowed = state.limits.sizeWithin(slot, world.step, oracle);
    let closed: number;
    if (size > 0) {
      closed = Math.min(fraction === 1 ? size : size * fraction, allowed);
      const proceeds = pool.sell(closed, fundamental);
      slippage += closed * oracle - proceeds;
      book.collateral[account] = (book.collateral[account] ?? 0) + proceeds - closed * entry;
    } else {
      // A buy-back larger than the pool allows fills in part; the rest stays open for the next step.
      const wanted = -(fraction === 1 ? size : size * fraction);
      const filled = Math.min(wanted, pool.maxBuy(fundamental), allowed);
      const cost = pool.buy(filled, fundamental);
      slippage += cost - filled * oracle;
      book.collateral[account] = (book.collateral[account] ?? 0) + filled * entry - cost;
      closed = -filled;
    }
    state.limits.use(slot, world.step, Math.abs(closed) * oracle);
    const remaining = size - closed;
    book.positionSize[k] = Math.abs(remaining) <= DUST_SHARE * Math.abs(size) ? 0 : remaining;
    pnlAtOracle += closed * (oracle - entry);
    notional += Math.abs(closed) * oracle;
    nominalPenalty += Math.abs(closed) * oracle * (state.penalty[market] ?? 0);
  }
  const equityAfter = equityOf({ book, account, prices, marketCount: world.marketCount });
  const penalty = Math.min(nominalPenalty, Math.max(0, equityAfter));
  book.collateral[account] = (book.collateral[account] ?? 0) - penalty;
  const writeOff = writeOffIfFlat(state, account);
  const event: LiquidationEvent = { step: world.step, account, kind: 'close', reason, fraction, equityBefore, permittedBelow, notional, pnlAtOracle, slippage, penalty, writeOff };
  state.tally.liquidation(event);
  return event;
}

/**
 * What closing `fraction` would cost the account now, without trading: slippage against the
 * oracle plus the penalty it would pay (capped by the equity left). Infinity when a buy-back
 * exceeds what the pool can fill.
 */
export function closeLoss(params: { state: RunState; account: number; fraction: number; equity: number }): number {
  const { state, account, fraction, equity } = params;
  const { book, world } = state;
  const chain = book.home[account] ?? 0;
  let slippage = 0;
  let nominalPenalty = 0;
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) {
    const size = book.positionSize[k] ?? 0;
    if (size === 0) continue;
    const market = book.positionMarket[k] ?? 0;
    const slot = world.slot(chain, market);
    const oracle = world.oraclePrices[slot] ?? 0;
    const pool = world.pool(slot);
    const amount = Math.abs(size) * fraction;
    slippage += size > 0 ? amount * oracle - pool.quoteSell(amount, world.fundamental(market)) : pool.quoteBuy(amount, world.fundamental(market)) - amount * oracle;
    nominalPenalty += amount * oracle * (state.penalty[market] ?? 0);
  }
  return slippage + Math.min(nominalPenalty, Math.max(0, equity - slippage));
}

/**
 * A flat account with negative collateral: the deficit is bad debt, written off, except what
 * the account's own surplus already in flight to it will cover when it lands.
 */
export function writeOffIfFlat(state: RunState, account: number): number {
  const collateral = state.book.collateral[account] ?? 0;
  if (collateral >= 0 || hasPositions(state.book, account)) return 0;
  const covered = Math.min(-collateral, state.inFlightCollateral[account] ?? 0);
  const writeOff = -collateral - covered;
  state.book.collateral[account] = covered > 0 ? -covered : 0;
  return writeOff;
}
