/**
 * The backstop takes over a share of an account's positions at the oracle price (DESIGN.md
 * section 4, `absorb`): no trade, no market impact. The account realizes its PnL at the
 * oracle and pays the penalty (from the equity left) to the vault; the vault's inventory
 * takes the positions at the oracle price.
 */
import { equityOf } from '../book.js';
import type { LiquidationEvent, LiquidationReason } from '../events.js';
import type { RunState } from '../strategy.js';
import { writeOffIfFlat } from './close-positions.js';

export function absorbFraction(params: {
  state: RunState;
  account: number;
  fraction: number;
  reason: LiquidationReason;
  permittedBelow: number;
}): LiquidationEvent {
  const { state, account, reason, permittedBelow } = params;
  const { book, world, vault } = state;
  const fraction = Math.min(1, params.fraction);
  const prices = world.oraclePrices;
  const equityBefore = equityOf({ book, account, prices, marketCount: world.marketCount });
  const chain = book.home[account] ?? 0;
  let notional = 0;
  let pnlAtOracle = 0;
  let nominalPenalty = 0;
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) {
    const size = book.positionSize[k] ?? 0;
    if (size === 0) continue;
    const market = book.positionMarket[k] ?? 0;
    const slot = world.slot(chain, market);
    const oracle = prices[slot] ?? 0;
    const absorbed = fraction === 1 ? size : size * fraction;
    const entry = book.positionEntry[k] ?? 0;
    vault.trade({ slot, size: absorbed, price: oracle });
    book.collateral[account] = (book.collateral[account] ?? 0) + absorbed * (oracle - entry);
    book.positionSize[k] = fraction === 1 ? 0 : size - absorbed;
    pnlAtOracle += absorbed * (oracle - entry);
    notional += Math.abs(absorbed) * oracle;
    nominalPenalty += Math.abs(absorbed) * oracle * (state.penalty[market] ?? 0);
  }
  // Absorbing at the oracle leaves equity unchanged: the penalty is capped by it as it was.
  const penalty = Math.min(nominalPenalty, Math.max(0, equityBefore));
  book.collateral[account] = (book.collateral[account] ?? 0) - penalty;
  vault.credit(chain, penalty);
  const writeOff = writeOffIfFlat(state, account);
  const event: LiquidationEvent = { step: world.step, account, kind: 'absorb', reason, fraction, equityBefore, permittedBelow, notional, pnlAtOracle, slippage: 0, penalty, writeOff };
  state.tally.liquidation(event);
  return event;
}

/** The penalty absorbing `fraction` would cost the account now (capped by its equity). */
export function absorbLoss(params: { state: RunState; account: number; fraction: number; equity: number }): number {
  const { state, account, fraction, equity } = params;
  const { book, world } = state;
  const chain = book.home[account] ?? 0;
  let nominalPenalty = 0;
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) {
    const market = book.positionMarket[k] ?? 0;
    nominalPenalty += Math.abs((book.positionSize[k] ?? 0) * fraction) * (world.oraclePrices[world.slot(chain, market)] ?? 0) * (state.penalty[market] ?? 0);
  }
  return Math.min(nominalPenalty, Math.max(0, equity));
}
