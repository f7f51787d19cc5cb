/** How each metric is named and shown: the table's rows, in order, and the JSON's rounding. */
import type { StrategyMetrics } from '../metrics.js';

export type MetricUnit = 'usd' | 'pct' | 'count' | 'hours';

export interface MetricRow {
  readonly key: keyof StrategyMetrics;
  readonly label: string;
  readonly unit: MetricUnit;
}

export const METRIC_ROWS: readonly MetricRow[] = [
  { key: 'badDebtUsd', label: 'bad debt', unit: 'usd' },
  { key: 'badDebtPct', label: 'bad debt, % of open interest', unit: 'pct' },
  { key: 'netProtocolLossUsd', label: 'net protocol loss (bad debt - vault PnL + gas + fees)', unit: 'usd' },
  { key: 'slippageUsd', label: 'slippage vs oracle (pool fees incl.)', unit: 'usd' },
  { key: 'peakImpactPct', label: 'peak price impact', unit: 'pct' },
  { key: 'timeWeightedImpactPct', label: 'time-weighted price impact', unit: 'pct' },
  { key: 'accountsLiquidated', label: 'accounts liquidated', unit: 'count' },
  { key: 'liquidations', label: 'liquidations (closes + absorptions)', unit: 'count' },
  { key: 'notionalLiquidatedUsd', label: 'notional closed into pools', unit: 'usd' },
  { key: 'notionalAbsorbedUsd', label: 'notional absorbed by backstop', unit: 'usd' },
  { key: 'penaltiesUsd', label: 'penalties paid by traders', unit: 'usd' },
  { key: 'gasUsd', label: 'gas', unit: 'usd' },
  { key: 'messageFeesUsd', label: 'cross-chain message fees', unit: 'usd' },
  { key: 'accountsToppedUp', label: 'accounts topped up cross-chain', unit: 'count' },
  { key: 'collateralMovedUsd', label: 'own collateral moved cross-chain', unit: 'usd' },
  { key: 'liquidityMovedUsd', label: 'vault liquidity moved cross-chain', unit: 'usd' },
  { key: 'vaultDrawdownUsd', label: 'vault drawdown (peak to trough)', unit: 'usd' },
  { key: 'vaultPnlUsd', label: 'vault PnL (inventory at pool exit value)', unit: 'usd' },
  { key: 'uncoveredShortfallUsd', label: 'uncovered shortfall (peak, before acting)', unit: 'usd' },
  { key: 'underwaterAccountHours', label: 'account-hours below maintenance', unit: 'hours' },
  { key: 'plannerUncoveredUsd', label: 'required amount without a source (peak)', unit: 'usd' },
];

/** USD to the cent, percentages to 1e-4, hours to 1e-2: stable JSON without float noise. */
export function roundMetric(value: number, unit: MetricUnit): number {
  const scale = unit === 'usd' ? 100 : unit === 'pct' ? 10_000 : unit === 'hours' ? 100 : 1;
  const rounded = Math.round(value * scale) / scale;
  return Object.is(rounded, -0) ? 0 : rounded;
}
