/**
 * An account's equity and requirements at its home chain's oracle, as the margin engine checks
 * them before a liquidation or an absorption (DESIGN.md section 4), USD as numbers.
 */
import type { RunState } from '../strategy.js';

/** MarginEngine.HEALTH_ROUNDING_MARGIN (4 base units) in USD: the engine sizes a close, a takeover or a take for the deficit plus this. */
export const HEALTH_ROUNDING_MARGIN_USD = 4e-6;

export interface AccountLevels {
  readonly equity: number;
  /** MM = sum |p| P m. */
  readonly maintenance: number;
  /** IM = sum |p| P im. */
  readonly initial: number;
  /** What a liquidation or a take may restore: sum |p| P (m + buffer), at most IM. */
  readonly closeLevel: number;
}

export function accountLevels(state: RunState, account: number): AccountLevels {
  const { book, world } = state;
  const chain = book.home[account] ?? 0;
  let equity = book.collateral[account] ?? 0;
  let maintenance = 0;
  let initial = 0;
  let closeLevel = 0;
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) {
    const size = book.positionSize[k] ?? 0;
    if (size === 0) continue;
    const market = book.positionMarket[k] ?? 0;
    const price = world.oraclePrices[world.slot(chain, market)] ?? 0;
    const value = Math.abs(size) * price;
    equity += size * (price - (book.positionEntry[k] ?? 0));
    maintenance += value * (state.maintenance[market] ?? 0);
    initial += value * (state.initial[market] ?? 0);
    closeLevel += value * ((state.maintenance[market] ?? 0) + (state.liquidationBuffer[market] ?? 0));
  }
  return { equity, maintenance, initial, closeLevel };
}

/** The index of the account's position in `market`, or undefined when it holds none there. */
export function positionIn(state: RunState, account: number, market: number): number | undefined {
  const { book } = state;
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) if ((book.positionMarket[k] ?? -1) === market) return k;
  return undefined;
}
