import type { Hex } from 'viem';
import { abs, ceilDiv, floorDiv, VALUE_SCALE, WAD } from './units.js';

/** A market's risk parameters (MarginEngine.MarketConfig without the feed). */
export interface MarketRisk {
  /** WAD fractions. */
  readonly maintenanceMarginFraction: bigint;
  readonly initialMarginFraction: bigint;
  readonly liquidationPenalty: bigint;
  /** The virtual AMM's base reserve (1e18 scale). */
  readonly ammDepth: bigint;
}

export interface PositionState {
  /** Signed base size, 1e18 scale. */
  readonly size: bigint;
  /** 8 decimals. */
  readonly entryPrice: bigint;
}

export interface AccountHealth {
  readonly equity: bigint;
  readonly maintenanceMargin: bigint;
  readonly initialMargin: bigint;
  /** What could be withdrawn or released now: min(collateral, equity - initial), at least 0. */
  readonly freeCollateral: bigint;
}

/**
 * An account's health exactly as MarginEngine computes it (all in collateral base units):
 * E = C + floor(sum p (P - e) / 1e20), MM and IM rounded up after summing over markets.
 * Throws when a position's market has no price or no parameters.
 */
export function accountHealth(params: {
  collateral: bigint;
  positions: ReadonlyMap<Hex, PositionState>;
  markets: ReadonlyMap<Hex, MarketRisk>;
  prices: ReadonlyMap<Hex, bigint>;
}): AccountHealth {
  let pnl = 0n;
  let maintenance = 0n;
  let initial = 0n;
  for (const [market, position] of params.positions) {
    if (position.size === 0n) continue;
    const risk = params.markets.get(market);
    const price = params.prices.get(market);
    if (risk === undefined || price === undefined) throw new Error(`no ${risk ? 'price' : 'parameters'} for market ${market}`);
    pnl += position.size * (price - position.entryPrice);
    const notional = abs(position.size) * price;
    maintenance += notional * risk.maintenanceMarginFraction;
    initial += notional * risk.initialMarginFraction;
  }
  const equity = params.collateral + floorDiv(pnl, VALUE_SCALE);
  const maintenanceMargin = ceilDiv(maintenance, VALUE_SCALE * WAD);
  const initialMargin = ceilDiv(initial, VALUE_SCALE * WAD);
  const surplus = equity - initialMargin;
  const free = params.collateral < surplus ? params.collateral : surplus;
  return { equity, maintenanceMargin, initialMargin, freeCollateral: free > 0n ? free : 0n };
}
