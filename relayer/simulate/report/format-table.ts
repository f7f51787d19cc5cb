/** `relayer simulate --format table`: the strategies side by side, one metric a row. */
import type { SimulationResult } from '../simulate.js';
import { METRIC_ROWS, type MetricUnit } from './metric-rows.js';

const usd = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function cell(value: number, unit: MetricUnit): string {
  if (unit === 'pct') return `${value.toFixed(2)}%`;
  if (unit === 'hours') return value.toFixed(1);
  // -0 after rounding reads as a loss that is not there.
  const rounded = Math.round(value);
  return (unit === 'usd' ? usd : count).format(rounded === 0 ? 0 : rounded);
}

export function formatTable(result: SimulationResult): string {
  const { scenario } = result;
  const header = [
    `scenario ${scenario.name} (seed ${scenario.seed}): ${count.format(result.population.count)} accounts, ` +
      `open interest $${usd.format(result.openInterestUsd)}, ${count.format(result.steps)} steps of ${scenario.stepSeconds} s`,
  ];
  const labelWidth = Math.max(...METRIC_ROWS.map((row) => row.label.length + (row.unit === 'usd' ? 6 : 0)));
  const columns = result.runs.map((run) => METRIC_ROWS.map((row) => cell(run.metrics[row.key], row.unit)));
  const widths = result.runs.map((run, i) => Math.max(run.name.length, ...(columns[i] ?? []).map((text) => text.length)));
  const line = (label: string, cells: readonly string[]): string =>
    `${label.padEnd(labelWidth)}  ${cells.map((text, i) => text.padStart(widths[i] ?? 0)).join('  ')}`.trimEnd();
  const rows = METRIC_ROWS.map((row, r) => line(row.unit === 'usd' ? `${row.label} (USD)` : row.label, columns.map((column) => column[r] ?? '')));
  return `${[...header, '', line('', result.runs.map((run) => run.name)), ...rows].join('\n')}\n`;
}
