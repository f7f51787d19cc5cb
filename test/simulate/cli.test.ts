import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { tinyScenarioInput } from './fixtures.js';

let dir: string;
let scenarioFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relayer-simulate-'));
  // The tiny scenario's 200 accounts through a -20% move over two hours, in 60 s steps.
  const input = tinyScenarioInput();
  input.durationSeconds = 3 * 3600;
  input.pricePaths = { 'ETH-USD': { type: 'points', points: [{ atSeconds: 0, level: 1 }, { atSeconds: 7200, level: 0.8 }] } };
  scenarioFile = join(dir, 'crash.json');
  await writeFile(scenarioFile, JSON.stringify(input, null, 2));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('relayer simulate', () => {
  it('prints every strategy as JSON, writes the chart, and exits 0', async () => {
    const chart = join(dir, 'crash.svg');
    const run = runCli(['simulate', '--scenario', scenarioFile, '--format', 'json', '--chart', chart]);
    expect(await run.exited).toBe(0);
    const output = JSON.parse(run.stdout()) as { scenario: { name: string; accounts: number; steps: number }; strategies: Record<string, Record<string, number>> };
    expect(output.scenario).toMatchObject({ name: 'tiny', accounts: 200, steps: 180 });
    expect(Object.keys(output.strategies)).toEqual(['full', 'close-factor', 'relayer']);
    expect(output.strategies.full?.accountsLiquidated).toBeGreaterThan(0);
    const svg = await readFile(chart, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toContain('NaN');
  });

  it('prints the table for the strategies asked for, with the seed given', async () => {
    const run = runCli(['simulate', '--scenario', scenarioFile, '--strategy', 'relayer,full', '--seed', '11']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/^scenario tiny \(seed 11\): 200 accounts/);
    expect(run.stdout()).toMatch(/\n\s+relayer\s+full\n/);
    expect(run.stdout()).toContain('bad debt (USD)');
  });

  it('refuses a bad scenario with one line naming the file and the field, and exits 1', async () => {
    const input = tinyScenarioInput();
    const market = input.markets[0];
    if (market) market.penalty = -0.1;
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify(input));
    const run = runCli(['simulate', '--scenario', bad]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toBe(`relayer simulate: ${bad}: markets[0].penalty: must be in [0, 1)\n`);
    expect(run.stdout()).toBe('');
  });

  it('exits 2 on a usage error', async () => {
    const missing = runCli(['simulate']);
    const unknown = runCli(['simulate', '--scenario', scenarioFile, '--strategy', 'gentle']);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toContain('--scenario FILE is required');
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toContain("--strategy: unknown strategy 'gentle'");
  });
});
