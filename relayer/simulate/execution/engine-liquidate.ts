/**
 * `MarginEngine.liquidate(account, market, size)` in the simulated world (DESIGN.md section 4;
 * chains/contracts/src/MarginEngine.sol is the truth): a partial close of ONE market's position
 * into that chain's pool, allowed only while the account is below maintenance, and only up to
 * the close that restores its close level, maintenance plus the market's liquidation buffer
 * (the whole position when none does; for a short, what
 * the pool can supply). The penalty is the engine's: the penalty fraction of the notional
 * closed at the oracle, taken in full from collateral (not capped by what equity is left); a
 * flat account's negative collateral is written off as bad debt. The world's pool is the
 * market: its fee and its price (which may lag or lead the oracle) are what the close pays.
 */
import type { LiquidationEvent } from '../events.js';
import type { RunState } from '../strategy.js';
import { HEALTH_ROUNDING_MARGIN_USD, accountLevels, type AccountLevels } from './account-levels.js';
import { writeOffIfFlat } from './close-positions.js';
import { smallestFraction } from './fraction-search.js';

const OVERSHOOT = 1e-9;
/**
 * A request this close to the whole position is the whole position: the node sizes a leg from
 * a notional in base units (rounded), and a position is never left as an unliquidatable sliver.
 */
const WHOLE = 1e-9;
const WHOLE_USD = 1e-5;

export function engineLiquidate(params: {
  state: RunState;
  account: number;
  position: number;
  notional: number;
  reason: 'home' | 'plan';
  /** The engine's own view of E and MM (its integer rounding); default: the float book at the oracle. */
  levels?: AccountLevels;
}): LiquidationEvent | undefined {
  const { state, account, position: k, reason } = params;
  const { book, world } = state;
  const size = book.positionSize[k] ?? 0;
  if (size === 0 || !(params.notional > 0)) return undefined;
  const levels = params.levels ?? accountLevels(state, account);
  if (!(levels.equity < levels.maintenance)) return undefined;
  const market = book.positionMarket[k] ?? 0;
  const slot = world.slot(book.home[account] ?? 0, market);
  const oracle = world.oraclePrices[slot] ?? 0;
  const pool = world.pool(slot);
  const fundamental = world.fundamental(market);
  const m = (state.maintenance[market] ?? 0) + (state.liquidationBuffer[market] ?? 0);
  const penaltyRate = state.penalty[market] ?? 0;
  const held = Math.abs(size);
  const whole = size > 0 ? held : Math.min(held, pool.maxBuy(fundamental));
  const slippage = (amount: number): number =>
    size > 0 ? amount * oracle - pool.quoteSell(amount, fundamental) : pool.quoteBuy(amount, fundamental) - amount * oracle;
  // Closing b frees (m + buffer) b P of the close level and costs the account slippage and penalty.
  const gain = (share: number): number => {
    const amount = share * whole;
    return m * amount * oracle - slippage(amount) - penaltyRate * amount * oracle;
  };
  const capShare = smallestFraction(gain, (levels.closeLevel - levels.equity + HEALTH_ROUNDING_MARGIN_USD) * (1 + OVERSHOOT)) ?? 1;
  const nearlyAll = (amount: number): boolean => amount >= held * (1 - WHOLE) || (held - amount) * oracle <= WHOLE_USD;
  // The engine's rounding makes a cap within a rounding unit of the position the whole position.
  const cap = nearlyAll(capShare * whole) ? whole : capShare * whole;
  let closed = Math.min(params.notional / oracle, cap);
  if (nearlyAll(closed)) closed = Math.min(held, cap);
  // Beyond what the block's cap leaves the engine refuses; the node sizes from maxLiquidationSize, which counts it.
  closed = Math.min(closed, state.limits.sizeWithin(slot, world.step, oracle));
  if (!(closed > 0)) return undefined;
  state.limits.use(slot, world.step, closed * oracle);

  const entry = book.positionEntry[k] ?? 0;
  let executed: number;
  if (size > 0) {
    const proceeds = pool.sell(closed, fundamental);
    executed = closed * oracle - proceeds;
    book.collateral[account] = (book.collateral[account] ?? 0) + proceeds - closed * entry;
  } else {
    const cost = pool.buy(closed, fundamental);
    executed = cost - closed * oracle;
    book.collateral[account] = (book.collateral[account] ?? 0) + closed * entry - cost;
  }
  const signed = size > 0 ? closed : -closed;
  book.positionSize[k] = closed === held ? 0 : size - signed;
  const penalty = penaltyRate * closed * oracle;
  book.collateral[account] = (book.collateral[account] ?? 0) - penalty;
  const writeOff = writeOffIfFlat(state, account);
  const event: LiquidationEvent = {
    step: world.step,
    account,
    kind: 'close',
    reason,
    fraction: closed / held,
    equityBefore: levels.equity,
    permittedBelow: levels.maintenance,
    notional: closed * oracle,
    limitNotional: cap * oracle,
    pnlAtOracle: signed * (oracle - entry),
    slippage: executed,
    penalty,
    writeOff,
  };
  state.tally.liquidation(event);
  return event;
}
