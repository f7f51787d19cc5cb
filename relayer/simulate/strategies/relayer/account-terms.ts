/**
 * One account at its home chain's oracle, in the quantities that size the relayer's actions:
 * every "level" is a sum of |p| P times a fraction, so closing or absorbing a share phi of
 * every position scales it by (1 - phi). USD as numbers.
 */
import type { RunState } from '../../strategy.js';

export interface AccountTerms {
  readonly equity: number;
  readonly notional: number;
  /** MM = sum |p| P m. */
  readonly maintenance: number;
  /** sum |p| P m_eff (1 + target): the level the required amount restores. */
  readonly target: number;
  /** The penalty of acting on every position, before the cap by equity. */
  readonly penalty: number;
  /** sum |p| P im: the margin a backstop must hold to take every position over. */
  readonly initialMargin: number;
  /** Notional-weighted USD reserve and fee of the account's pools (the local cost model). */
  readonly poolDepthUsd: number;
  readonly poolFee: number;
}

export function accountTerms(params: { state: RunState; account: number; targetRates: Float64Array }): AccountTerms {
  const { state, account, targetRates } = params;
  const { book, world } = state;
  const chain = book.home[account] ?? 0;
  let equity = book.collateral[account] ?? 0;
  let notional = 0;
  let maintenance = 0;
  let target = 0;
  let penalty = 0;
  let initialMargin = 0;
  let depth = 0;
  let fee = 0;
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) {
    const size = book.positionSize[k] ?? 0;
    if (size === 0) continue;
    const market = book.positionMarket[k] ?? 0;
    const slot = world.slot(chain, market);
    const price = world.oraclePrices[slot] ?? 0;
    const value = Math.abs(size) * price;
    const pool = world.pool(slot);
    equity += size * (price - (book.positionEntry[k] ?? 0));
    notional += value;
    maintenance += value * (state.maintenance[market] ?? 0);
    target += value * (targetRates[market] ?? 0);
    penalty += value * (state.penalty[market] ?? 0);
    initialMargin += value * (state.initial[market] ?? 0);
    depth += value * pool.usdReserve(world.fundamental(market));
    fee += value * pool.fee;
  }
  return {
    equity,
    notional,
    maintenance,
    target,
    penalty,
    initialMargin,
    poolDepthUsd: notional > 0 ? depth / notional : 0,
    poolFee: notional > 0 ? fee / notional : 0,
  };
}
