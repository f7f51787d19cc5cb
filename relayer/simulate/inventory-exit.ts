/**
 * What the backstop's inventory would fetch if it were sold (or, for a short, bought back)
 * into its chain's pool now, without trading: the mark net protocol loss uses at the end of a
 * run, and the "stressed" mark a vault's sending capacity is held to during it. The oracle
 * mark (Vault.value) says what the inventory is worth on paper; this says what it is worth to
 * a protocol that has to get out of it through the same thin pools.
 */
import type { Vault } from './vault.js';
import type { World } from './world.js';

/** A slot's inventory PnL at its exit value: proceeds of closing it into the pool less its cost at entry, USD. */
export function exitPnl(params: { world: World; vault: Vault; slot: number }): number {
  const { world, vault, slot } = params;
  const held = vault.inventory[slot] ?? 0;
  if (held === 0) return 0;
  const entry = vault.entry[slot] ?? 0;
  const pool = world.pool(slot);
  const fundamental = world.fundamental(world.marketOf(slot));
  if (held > 0) return pool.quoteSell(held, fundamental) - held * entry;
  const wanted = -held;
  const fillable = Math.min(wanted, pool.maxBuy(fundamental));
  let cost = pool.quoteBuy(fillable, fundamental);
  if (wanted > fillable) {
    // Beyond what the pool can supply in one trade: the rest at the marginal price it would leave.
    const after = pool.baseReserve(fundamental) - fillable;
    cost += ((wanted - fillable) * pool.k) / (after * after) / (1 - pool.fee);
  }
  return wanted * entry - cost;
}

/** One chain's vault: its reserve plus its inventory at exit value, USD. */
export function stressedEquity(params: { world: World; vault: Vault; chain: number }): number {
  const { world, vault, chain } = params;
  let equity = vault.reserve[chain] ?? 0;
  for (let market = 0; market < world.marketCount; market++) equity += exitPnl({ world, vault, slot: world.slot(chain, market) });
  return equity;
}

/** Every chain's reserve, liquidity in flight, and the inventory at exit value, USD. */
export function exitValue(params: { world: World; vault: Vault }): number {
  const { world, vault } = params;
  let value = vault.inFlight;
  for (let chain = 0; chain < world.chainCount; chain++) value += stressedEquity({ world, vault, chain });
  return value;
}
