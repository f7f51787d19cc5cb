import { marketCatalog } from '../../relayer/risk/market-catalog.js';
import { marketTable, type MarketTable } from '../../relayer/risk/market-table.js';
import { riskConfig, type RiskConfig, type RiskConfigInput } from '../../relayer/risk/risk-config.js';
import type { AccountState, MarketParams, MarketState, PriceRound } from '../../relayer/risk/types.js';

export const T0 = 1_700_000_000;
export const E18 = 10n ** 18n;

/** USD amounts in base units: usd(12.5) = 12_500_000n (test literals only). */
export const usd = (value: number): bigint => BigInt(Math.round(value * 1e6));
/** A price with 8 decimals from a whole-cent number. */
export const price8 = (value: number): bigint => BigInt(Math.round(value * 100)) * 10n ** 6n;
/** Asset units to a size (1e18 per unit). */
export const units = (value: number): bigint => BigInt(Math.round(value * 1e6)) * 10n ** 12n;
export const percent = (value: bigint): bigint => (value * E18) / 100n;

/** A market whose volatility term stays negligible unless a test sets the variance. */
export function market(id: string, overrides: Partial<MarketParams> = {}): MarketParams {
  return { id, maintenanceFraction: percent(5n), priceDecimals: 8, heartbeatSeconds: 3600, varianceFloor: 1e-12, ...overrides };
}

export function config(overrides: Partial<RiskConfigInput> = {}): RiskConfig {
  return riskConfig({ actionSeconds: 60, warn: 0.1, target: 0.2, ...overrides });
}

export function round(marketId: string, answer: bigint, updatedAt = T0, roundId = 1n): PriceRound {
  return { market: marketId, roundId, answer, updatedAt };
}

export function priced(answer: bigint, params: { market: string; updatedAt?: number; variance?: number }): MarketState {
  return { round: round(params.market, answer, params.updatedAt ?? T0), variance: params.variance ?? 1e-12 };
}

/** A table from market params and their states at `now`. */
export function table(params: { markets: readonly MarketParams[]; states: readonly MarketState[]; config?: RiskConfig; now?: number }): MarketTable {
  return marketTable({ catalog: marketCatalog(params.markets), config: params.config ?? config(), states: params.states, now: params.now ?? T0 });
}

export function account(id: string, collateral: bigint, positions: AccountState['positions'] = []): AccountState {
  return { account: id, collateral, positions };
}
