/**
 * The risk engine (DESIGN.md section 5): pure valuation functions, and the incremental index a
 * watcher drives with account states, price rounds and the block clock.
 */
export type { AccountId, AccountState, MarketId, MarketParams, MarketState, Position, PriceRound } from './types.js';
export { DEFAULT_LAMBDA, DEFAULT_Z, riskConfig, type ForecastConfig, type RiskConfig, type RiskConfigInput } from './risk-config.js';
export { RiskEngine, type RiskChange, type RiskEngineOptions } from './risk-engine.js';
export { assessAccount, evaluateAccount, type AccountHealth, type RiskReason, type Valuation } from './account-health.js';
export { accountVerdict, type AccountVerdict } from './account-verdict.js';
export { compileAccount, type CompiledAccount } from './compiled-account.js';
export { marketCatalog, type MarketCatalog } from './market-catalog.js';
export { marketTable, type MarketTable } from './market-table.js';
export { marketSnapshot, type Freshness, type MarketSnapshot } from './market-snapshot.js';
export { equity } from './equity.js';
export { effectiveMaintenanceRequirement, maintenanceRequirement } from './maintenance.js';
export { effectiveMarginFraction } from './effective-margin.js';
export { requiredAmount } from './required-amount.js';
export { forecastMultiplier } from './forecast.js';
export { breachProbability, healthDispersion } from './breach-probability.js';
export { oracleAge, type OracleAge } from './oracle-staleness.js';
export { initialMarketState, updateVariance, varianceFromAnnualVolatility } from './volatility.js';
export { fullScan } from './full-scan.js';
export { RATE_SCALE, rateFraction, SIZE_DECIMALS, SIZE_SCALE, USD_DECIMALS, WAD } from './units.js';
