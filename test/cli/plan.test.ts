import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relayer-plan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const linear = (id: string, capacity: number, rate: number) => ({ id, capacity, fixedCost: 1, latency: 0, cost: { type: 'linear', rate } });

describe('relayer plan', () => {
  it('prints the plan of one JSON instance as DESIGN.md shows it', async () => {
    const file = join(dir, 'one.json');
    await writeFile(file, JSON.stringify({ required: 1000, riskPerSecond: 0, options: [linear('dear', 800, 0.01), linear('cheap', 700, 0.002)] }, null, 2));
    const run = runCli(['plan', '--input', file]);
    expect(await run.exited).toBe(0);
    const lines = run.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] ?? '{}') as { allocations: { id: string; amount: number }[]; totalCost: number; uncovered: number };
    expect(result.allocations).toEqual([
      { id: 'dear', amount: 300 },
      { id: 'cheap', amount: 700 },
    ]);
    expect(result.totalCost).toBeCloseTo(6.4, 9);
    expect(result.uncovered).toBe(0);
  });

  it('prints one plan per JSON line, in order', async () => {
    const file = join(dir, 'many.jsonl');
    const requirements = [100, 2000, 0];
    await writeFile(file, `${requirements.map((required) => JSON.stringify({ required, riskPerSecond: 0, options: [linear('a', 1000, 0.01)] })).join('\n')}\n`);
    const run = runCli(['plan', '--input', file]);
    expect(await run.exited).toBe(0);
    const plans = run.stdout().trim().split('\n').map((line) => JSON.parse(line) as { uncovered: number; allocations: unknown[] });
    expect(plans.map((p) => p.uncovered)).toEqual([0, 1000, 0]);
    expect(plans.map((p) => p.allocations.length)).toEqual([1, 1, 0]);
  });

  it('refuses a bad instance naming its line and field, and prints no plan', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, `${JSON.stringify({ required: 1, riskPerSecond: 0, options: [] })}\n${JSON.stringify({ required: 1, riskPerSecond: 0, options: [{ ...linear('a', 10, 0), latency: -1 }] })}\n`);
    const run = runCli(['plan', '--input', file]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('bad.jsonl line 2: options[0].latency: must be a number >= 0');
    expect(run.stdout()).toBe('');
  });

  it('requires --input', async () => {
    const run = runCli(['plan']);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('--input FILE is required');
  });
});
