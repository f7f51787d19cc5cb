/**
 * `relayer simulate --chart FILE.svg`: two panels over time (hours). Above, the price of the
 * pool that moved most (largest time-weighted impact in any run): its fundamental price and,
 * per strategy, the pool's price, so the fire sale and the cascade show as dips below the
 * fundamental. Below, each strategy's cumulative bad debt written off. Plain SVG, no script.
 */
import type { StrategyName } from '../strategy.js';
import type { SimulationResult } from '../simulate.js';
import { decimate } from './decimate.js';
import { compactNumber, niceTicks } from './ticks.js';

const WIDTH = 960;
const HEIGHT = 620;
const LEFT = 80;
const RIGHT = 190;
const BUCKETS = 400;
const COLORS: Record<StrategyName, string> = { full: '#d62728', 'close-factor': '#ff7f0e', relayer: '#2ca02c' };
const FUNDAMENTAL = '#555555';

interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed: boolean;
  readonly values: ArrayLike<number>;
}

interface Panel {
  readonly title: string;
  readonly top: number;
  readonly height: number;
  readonly series: readonly Series[];
  readonly unit: string;
}

export function svgChart(result: SimulationResult): string {
  const { scenario } = result;
  const slot = mostMovedSlot(result);
  const marketCount = scenario.markets.length;
  const market = scenario.markets[slot % marketCount];
  const chain = scenario.chains[Math.floor(slot / marketCount)];
  const hours = Float64Array.from({ length: result.steps + 1 }, (_, step) => (step * scenario.stepSeconds) / 3600);
  const prices: Panel = {
    title: `${market?.id ?? ''} on ${chain?.key ?? ''}: fundamental and pool price`,
    top: 60,
    height: 270,
    unit: '$',
    series: [
      ...result.runs.map((run) => ({ label: `${run.name} pool`, color: COLORS[run.name], dashed: false, values: run.state.tally.poolPrices[slot] ?? [] })),
      // Drawn last, so the path every pool is pulled back to stays visible over them.
      { label: 'fundamental', color: FUNDAMENTAL, dashed: true, values: result.fundamentals[slot % marketCount] ?? [] },
    ],
  };
  const badDebt: Panel = {
    title: 'cumulative bad debt written off',
    top: 380,
    height: 190,
    unit: '$',
    series: result.runs.map((run) => ({ label: run.name, color: COLORS[run.name], dashed: false, values: run.state.tally.badDebtSeries })),
  };
  const body = [prices, badDebt].map((panel) => renderPanel(panel, hours)).join('\n');
  const title = `${escapeXml(scenario.name)}: ${result.population.count} accounts, seed ${scenario.seed}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${LEFT}" y="28" font-size="16" font-weight="bold">${title}</text>`,
    body,
    `<text x="${LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="${HEIGHT - 12}" text-anchor="middle">hours</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** The slot with the largest time-weighted impact in any run: where the strategies differ most. */
function mostMovedSlot(result: SimulationResult): number {
  let best = 0;
  let bestImpact = -1;
  for (const run of result.runs) {
    run.state.tally.impactSeconds.forEach((impact, slot) => {
      if (impact > bestImpact) {
        bestImpact = impact;
        best = slot;
      }
    });
  }
  return best;
}

function renderPanel(panel: Panel, hours: Float64Array): string {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const xMax = hours[hours.length - 1] ?? 1;
  let yMin = Number.POSITIVE_INFINITY;
  let yMax = Number.NEGATIVE_INFINITY;
  for (const series of panel.series) {
    for (let i = 0; i < series.values.length; i++) {
      const value = series.values[i] ?? 0;
      if (!Number.isFinite(value)) continue;
      yMin = Math.min(yMin, value);
      yMax = Math.max(yMax, value);
    }
  }
  if (!Number.isFinite(yMin)) [yMin, yMax] = [0, 1];
  if (yMax - yMin < 1e-9 * Math.max(1, Math.abs(yMax))) [yMin, yMax] = [yMin - 1, yMax + 1];
  const x = (value: number): number => LEFT + (plotWidth * value) / (xMax || 1);
  const y = (value: number): number => panel.top + panel.height - (panel.height * (value - yMin)) / (yMax - yMin);
  const parts: string[] = [`<text x="${LEFT}" y="${panel.top - 10}" font-weight="bold">${escapeXml(panel.title)}</text>`];
  parts.push(`<rect x="${LEFT}" y="${panel.top}" width="${plotWidth}" height="${panel.height}" fill="none" stroke="#999"/>`);
  for (const tick of niceTicks({ min: yMin, max: yMax })) {
    const ty = y(tick).toFixed(1);
    parts.push(`<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${ty}" y2="${ty}" stroke="#eee"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${panel.unit}${compactNumber(tick)}</text>`);
  }
  for (const tick of niceTicks({ min: 0, max: xMax, target: 8 })) {
    parts.push(`<text x="${x(tick).toFixed(1)}" y="${panel.top + panel.height + 16}" text-anchor="middle">${compactNumber(tick)}</text>`);
  }
  panel.series.forEach((series, i) => {
    const points = decimate({ xs: hours, ys: series.values, buckets: BUCKETS })
      .filter(([, value]) => Number.isFinite(value))
      .map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`)
      .join(' ');
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    // Earlier series drawn wider, so identical paths (full and close-factor often are) both show.
    const width = Math.max(1.2, 3 - i * 0.75).toFixed(2);
    parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="${width}"${dash} points="${points}"><title>${escapeXml(series.label)}</title></polyline>`);
    const ly = panel.top + 14 + i * 18;
    parts.push(`<line x1="${LEFT + plotWidth + 14}" x2="${LEFT + plotWidth + 38}" y1="${ly}" y2="${ly}" stroke="${series.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${LEFT + plotWidth + 44}" y="${ly}" dominant-baseline="middle">${escapeXml(series.label)}</text>`);
  });
  return parts.join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
