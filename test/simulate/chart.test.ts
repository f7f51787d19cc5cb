import { describe, expect, it } from 'vitest';
import { decimate } from '../../relayer/simulate/chart/decimate.js';
import { svgChart } from '../../relayer/simulate/chart/svg-chart.js';
import { niceTicks } from '../../relayer/simulate/chart/ticks.js';
import { simulate } from '../../relayer/simulate/simulate.js';
import { tinyScenario } from './fixtures.js';

describe('the SVG chart', () => {
  it('draws the fundamental and each strategy in both panels', () => {
    const scenario = tinyScenario((input) => {
      input.durationSeconds = 3600;
      input.pricePaths = { 'ETH-USD': { type: 'points', points: [{ atSeconds: 0, level: 1 }, { atSeconds: 1800, level: 0.8 }] } };
    });
    const svg = svgChart(simulate({ scenario }));
    expect(svg.match(/<polyline /g)).toHaveLength(4 + 3);
    for (const label of ['fundamental', 'full pool', 'close-factor pool', 'relayer pool', 'cumulative bad debt written off']) expect(svg).toContain(label);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('keeps a one-step spike when it thins a long series', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => i);
    const ys = xs.map((i) => (i === 4321 ? 10 : 100));
    const points = decimate({ xs, ys, buckets: 100 });
    expect(points.length).toBeLessThanOrEqual(201);
    expect(points).toContainEqual([4321, 10]);
    expect(points[points.length - 1]).toEqual([9999, 100]);
  });

  it('puts ticks on round numbers', () => {
    expect(niceTicks({ min: 0, max: 1 })).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks({ min: 23_000, max: 61_000 })).toEqual([30_000, 40_000, 50_000, 60_000]);
  });
});
