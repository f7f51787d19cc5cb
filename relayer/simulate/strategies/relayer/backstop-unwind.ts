/**
 * What the backstop does with the positions it absorbed (the simulated world's behaviour, not a
 * decision of the core). By default (`backstopUnwindImpact` 0) it holds them to the end:
 * absorption then has no market impact at all (DESIGN.md section 1) and the vault carries the
 * market move, reported as its drawdown (at the oracle) and its PnL (the inventory at what
 * selling it into the pools would fetch at the end). With a budget > 0 it sells (or buys back) every step, but only while that keeps
 * the pool within the budget of the fundamental price, so the unwinding never becomes the fire
 * sale it replaced. Slippage against the oracle counts as market cost; PnL goes to the vault.
 */
import { chargeGas } from '../../execution/gas.js';
import type { RunState } from '../../strategy.js';

/** Below this many USD a trade is not worth its transaction. */
const MIN_TRADE_USD = 1;

export function unwindBackstop(state: RunState, maxImpact: number): void {
  if (maxImpact <= 0) return;
  const { world, vault, tally } = state;
  vault.inventory.forEach((held, slot) => {
    if (held === 0) return;
    const fundamental = world.fundamental(world.marketOf(slot));
    const oracle = world.oraclePrices[slot] ?? 0;
    const pool = world.pool(slot);
    if (held > 0) {
      const amount = Math.min(held, pool.sellableTo(Math.log(1 - maxImpact), fundamental));
      if (amount * oracle < MIN_TRADE_USD) return;
      const proceeds = pool.sell(amount, fundamental);
      vault.trade({ slot, size: -amount, price: proceeds / amount });
      tally.unwindSlippage(amount * oracle - proceeds);
    } else {
      const amount = Math.min(-held, pool.buyableTo(Math.log(1 + maxImpact), fundamental));
      if (amount * oracle < MIN_TRADE_USD) return;
      const cost = pool.buy(amount, fundamental);
      vault.trade({ slot, size: amount, price: cost / amount });
      tally.unwindSlippage(cost - amount * oracle);
    }
    chargeGas(state, Math.floor(slot / world.marketCount));
  });
}
