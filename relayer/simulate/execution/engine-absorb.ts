/**
 * `MarginEngine.absorbUpTo(account, market, maxSize)` in the simulated world (DESIGN.md section
 * 4; chains/contracts/src/MarginEngine.sol is the truth): the backstop takes over up to
 * `maxSize` of ONE market's position, but only as the engine allows at that moment: nothing
 * unless the account is below initial margin, and never more than the size that restores it
 * (each unit frees im P of requirement and costs the account pen P). The account books the
 * absorb price, the oracle moved against it by the penalty (P (1 - pen) for a long, P (1 + pen)
 * for a short), against its entry; the backstop opens at that price: no trade, no market
 * impact, and the penalty is the backstop's edge over the oracle. A flat account's negative
 * collateral is written off as bad debt.
 */
import type { LiquidationEvent } from '../events.js';
import type { RunState } from '../strategy.js';
import { HEALTH_ROUNDING_MARGIN_USD, accountLevels, type AccountLevels } from './account-levels.js';
import { writeOffIfFlat } from './close-positions.js';

const OVERSHOOT = 1e-9;
/** A request this close to the whole position is the whole position (see engine-liquidate.ts). */
const WHOLE = 1e-9;
const WHOLE_USD = 1e-5;

export function engineAbsorbUpTo(params: {
  state: RunState;
  account: number;
  position: number;
  maxSize: number;
  /** The engine's own view of E and IM (its integer rounding); default: the float book at the oracle. */
  levels?: AccountLevels;
}): LiquidationEvent | undefined {
  const { state, account, position: k } = params;
  const { book, world, vault } = state;
  const size = book.positionSize[k] ?? 0;
  if (size === 0 || !(params.maxSize > 0)) return undefined;
  const levels = params.levels ?? accountLevels(state, account);
  if (!(levels.equity < levels.initial)) return undefined;
  const market = book.positionMarket[k] ?? 0;
  const slot = world.slot(book.home[account] ?? 0, market);
  const oracle = world.oraclePrices[slot] ?? 0;
  const penaltyRate = state.penalty[market] ?? 0;
  const held = Math.abs(size);
  const perUnit = oracle * ((state.initial[market] ?? 0) - penaltyRate);
  const nearlyAll = (amount: number): boolean => amount >= held * (1 - WHOLE) || (held - amount) * oracle <= WHOLE_USD;
  const exact = perUnit <= 0 ? held : Math.min(held, ((levels.initial - levels.equity + HEALTH_ROUNDING_MARGIN_USD) * (1 + OVERSHOOT)) / perUnit);
  // The engine's rounding makes a cap within a rounding unit of the position the whole position.
  const cap = nearlyAll(exact) ? held : exact;
  let absorbed = Math.min(params.maxSize, cap);
  if (nearlyAll(absorbed)) absorbed = Math.min(held, cap);
  // absorbUpTo takes no more than the block's cap leaves.
  absorbed = Math.min(absorbed, state.limits.sizeWithin(slot, world.step, oracle));
  if (!(absorbed > 0)) return undefined;
  state.limits.use(slot, world.step, absorbed * oracle);

  const signed = size > 0 ? absorbed : -absorbed;
  const absorbPrice = size > 0 ? oracle * (1 - penaltyRate) : oracle * (1 + penaltyRate);
  const entry = book.positionEntry[k] ?? 0;
  book.collateral[account] = (book.collateral[account] ?? 0) + signed * (absorbPrice - entry);
  book.positionSize[k] = absorbed === held ? 0 : size - signed;
  vault.trade({ slot, size: signed, price: absorbPrice });
  const writeOff = writeOffIfFlat(state, account);
  const event: LiquidationEvent = {
    step: world.step,
    account,
    kind: 'absorb',
    reason: 'arrival',
    fraction: absorbed / held,
    equityBefore: levels.equity,
    permittedBelow: levels.initial,
    notional: absorbed * oracle,
    limitNotional: cap * oracle,
    pnlAtOracle: signed * (oracle - entry),
    slippage: 0,
    penalty: absorbed * oracle * penaltyRate,
    writeOff,
  };
  state.tally.liquidation(event);
  return event;
}
