/**
 * What the backstop does with the positions it absorbed. By default (`backstopUnwinds` false)
 * it holds them to the end: absorption then has no market impact at all (DESIGN.md section 1)
 * and the vault carries the market move, reported as its drawdown (at the oracle) and its PnL
 * (the inventory at what selling it into the pools would fetch at the end). Unwinding,
 * every step it sells (or buys back) what the decision core's `decideUnwind` orders, the node's
 * own schedule: only while the pool stays within the budget of the fundamental price, so the
 * unwinding never becomes the fire sale it replaced. Slippage against the oracle counts as
 * market cost; PnL goes to the vault.
 */
import { decideUnwind, unitsDown, usdOf, type UnwindPosition } from '../../../policy/index.js';
import { chargeGas } from '../../execution/gas.js';
import type { RunState } from '../../strategy.js';

/** Below this many USD a trade is not worth its transaction. */
const MIN_TRADE = unitsDown(1);

/** Each step: the core's unwind orders for the vault's inventory (relayer/policy/unwind.ts), carried out in the pools. */
export function unwindBackstop(state: RunState, maxImpact: number): void {
  if (maxImpact <= 0) return;
  const { world, vault, tally } = state;
  const positions: UnwindPosition[] = [];
  vault.inventory.forEach((held, slot) => {
    if (held === 0) return;
    const fundamental = world.fundamental(world.marketOf(slot));
    const pool = world.pool(slot);
    positions.push({
      marketId: String(slot),
      notional: unitsDown(Math.abs(held) * fundamental),
      long: held > 0,
      pool: { quoteReserve: unitsDown(pool.usdReserve(fundamental)), priceRatio: Math.exp(pool.logDeviation), fee: pool.fee },
      budget: maxImpact,
    });
  });
  for (const order of decideUnwind({ positions, minTrade: MIN_TRADE })) {
    const slot = Number(order.marketId);
    const fundamental = world.fundamental(world.marketOf(slot));
    const oracle = world.oraclePrices[slot] ?? 0;
    const pool = world.pool(slot);
    const ordered = Math.min(Math.abs(vault.inventory[slot] ?? 0), usdOf(order.notional) / fundamental);
    const amount = order.sell ? ordered : Math.min(ordered, pool.maxBuy(fundamental));
    if (order.sell) {
      const proceeds = pool.sell(amount, fundamental);
      vault.trade({ slot, size: -amount, price: proceeds / amount });
      tally.unwindSlippage(amount * oracle - proceeds);
    } else {
      const cost = pool.buy(amount, fundamental);
      vault.trade({ slot, size: amount, price: cost / amount });
      tally.unwindSlippage(cost - amount * oracle);
    }
    chargeGas(state, Math.floor(slot / world.marketCount));
  }
}
