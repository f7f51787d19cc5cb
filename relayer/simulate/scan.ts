/**
 * The per-step pass over every account: equity and maintenance at the home chain's oracle,
 * the exposure figures (accounts under maintenance and their total shortfall, before anyone
 * acts), and the candidates a strategy looks at: accounts below their look level, worst first.
 * This is the simulator's hot loop (accounts x steps), hence the flat arrays and no allocation
 * per account that is not a candidate.
 */
import type { Candidate, RunState } from './strategy.js';

/** The scan runs in floats; the strategy decides on its own terms, so err on including. */
const LOOK_MARGIN = 1e-6;

export interface ScanResult {
  readonly candidates: Candidate[];
  /** Accounts with E < MM. */
  readonly underwater: number;
  /** Sum of MM - E over them, USD. */
  readonly shortfall: number;
}

export function scanAccounts(state: RunState, rates: Float64Array): ScanResult {
  const { book, world } = state;
  const prices = world.oraclePrices;
  const marketCount = world.marketCount;
  const maintenanceRates = state.maintenance;
  const { positionStart, positionMarket, positionSize, positionEntry, collateral, home } = book;
  const candidates: Candidate[] = [];
  let underwater = 0;
  let shortfall = 0;
  for (let account = 0; account < book.count; account++) {
    const end = positionStart[account + 1] ?? 0;
    const base = (home[account] ?? 0) * marketCount;
    let equity = collateral[account] ?? 0;
    let maintenance = 0;
    let level = 0;
    for (let k = positionStart[account] ?? 0; k < end; k++) {
      const size = positionSize[k] ?? 0;
      if (size === 0) continue;
      const market = positionMarket[k] ?? 0;
      const slot = base + market;
      const price = prices[slot] ?? 0;
      equity += size * (price - (positionEntry[k] ?? 0));
      const value = size < 0 ? -size * price : size * price;
      maintenance += value * (maintenanceRates[market] ?? 0);
      level += value * (rates[slot] ?? 0);
    }
    if (maintenance === 0) continue;
    if (equity < maintenance) {
      underwater += 1;
      shortfall += maintenance - equity;
    }
    if (equity < level * (1 + LOOK_MARGIN)) candidates.push({ account, equity, maintenance, level });
  }
  candidates.sort((a, b) => a.equity / a.level - b.equity / b.level || a.account - b.account);
  return { candidates, underwater, shortfall };
}
