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

  it('clamps a cpmm capacity at or over its pool reserveOut to just below it, and says so', async () => {
    const file = join(dir, 'clamp.json');
    const pool = (id: string, capacity: number) => ({ id, capacity, fixedCost: 0, latency: 0, cost: { type: 'cpmm', reserveIn: 1000, reserveOut: 1000, fee: 0 } });
    // More is required than the pools hold: the plan takes each clamped capacity whole.
    await writeFile(file, JSON.stringify({ required: 5000, riskPerSecond: 0, options: [pool('over', 2000), pool('at', 1000), pool('under', 10)] }, null, 2));
    const run = runCli(['plan', '--input', file]);
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toBe('');
    const lines = run.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] ?? '{}') as {
      allocations: { id: string; amount: number }[];
      totalCost: number;
      uncovered: number;
      warnings: { id: string; field: string; capacity: number; reserveOut: number; clampedTo: number }[];
    };
    const clampedTo = 1000 * (1 - 1e-9);
    expect(result.warnings).toEqual([
      { id: 'over', field: 'options[0].capacity', capacity: 2000, reserveOut: 1000, clampedTo },
      { id: 'at', field: 'options[1].capacity', capacity: 1000, reserveOut: 1000, clampedTo },
    ]);
    expect(clampedTo).toBeLessThan(1000);
    expect(result.allocations).toEqual([
      { id: 'over', amount: clampedTo },
      { id: 'at', amount: clampedTo },
      { id: 'under', amount: 10 },
    ]);
    expect(result.uncovered).toBeCloseTo(5000 - 2 * clampedTo - 10, 9);
    expect(Number.isFinite(result.totalCost)).toBe(true);
  });

  it('plans the design example the same with an oversized pool capacity, with a warning', async () => {
    const file = join(dir, 'design.jsonl');
    const instance = (capacity: number) => ({
      required: 1000,
      riskPerSecond: 0.5,
      options: [
        { id: 'collateral:beta:layerzero', capacity: 600, fixedCost: 1.5, latency: 12, cost: { type: 'linear', rate: 0.001 } },
        { id: 'local:alpha', capacity, fixedCost: 0.3, latency: 2, cost: { type: 'cpmm', reserveIn: 200000, reserveOut: 200000, fee: 0.003 } },
      ],
    });
    await writeFile(file, `${JSON.stringify(instance(5000))}\n${JSON.stringify(instance(1e9))}\n`);
    const run = runCli(['plan', '--input', file]);
    expect(await run.exited).toBe(0);
    const [within, over] = run.stdout().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(within).not.toHaveProperty('warnings');
    expect(over).toEqual({ ...within, warnings: [{ id: 'local:alpha', field: 'options[1].capacity', capacity: 1e9, reserveOut: 200000, clampedTo: 200000 * (1 - 1e-9) }] });
    expect(within?.allocations).toEqual([{ id: 'local:alpha', amount: 1000 }]);
  });

  it('prints an error line for a bad JSON line, plans the others, and exits 1', async () => {
    const file = join(dir, 'mixed.jsonl');
    const good = (required: number) => JSON.stringify({ required, riskPerSecond: 0, options: [linear('dear', 800, 0.01), linear('cheap', 700, 0.002)] });
    const badCapacity = JSON.stringify({ required: 1, riskPerSecond: 0, options: [linear('a', 10, 0), linear('b', -5, 0)] });
    const badLatency = JSON.stringify({ required: 1, riskPerSecond: 0, options: [{ ...linear('a', 10, 0), latency: -1 }] });
    // Line 5 is blank: it is skipped but still counted.
    await writeFile(file, [good(1000), badCapacity, good(100), '{"required": 1,', '', badLatency, good(2000)].join('\n'));
    const run = runCli(['plan', '--input', file]);
    expect(await run.exited).toBe(1);
    const out = run.stdout().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(out).toHaveLength(6);
    expect(out[0]).toMatchObject({ allocations: [{ id: 'dear', amount: 300 }, { id: 'cheap', amount: 700 }], uncovered: 0 });
    expect(out[0]?.totalCost).toBeCloseTo(6.4, 9);
    expect(out[1]).toEqual({ line: 2, error: 'options[1].capacity: must be a number >= 0' });
    expect(out[2]).toMatchObject({ allocations: [{ id: 'cheap', amount: 100 }], uncovered: 0 });
    expect(out[2]?.totalCost).toBeCloseTo(1 + 0.2, 9);
    expect(out[3]).toMatchObject({ line: 4, error: expect.stringMatching(/^not JSON \(/) as unknown });
    expect(out[4]).toEqual({ line: 6, error: 'options[0].latency: must be a number >= 0' });
    expect(out[5]).toMatchObject({ allocations: [{ id: 'dear', amount: 800 }, { id: 'cheap', amount: 700 }], uncovered: 500 });
    expect(run.stderr()).toContain('mixed.jsonl line 2: options[1].capacity: must be a number >= 0');
    expect(run.stderr()).toContain('mixed.jsonl line 6: options[0].latency: must be a number >= 0');
    expect(run.stderr()).toContain('3 of 6 instances refused');
  });

  it('refuses a non-finite or negative number in any field, naming its path', async () => {
    const file = join(dir, 'numbers.jsonl');
    const lines = [
      '{"required": 1e999, "riskPerSecond": 0, "options": []}',
      '{"required": 1, "riskPerSecond": -1e999, "options": []}',
      '{"required": 1, "riskPerSecond": 0, "options": [{"id": "a", "capacity": 10, "fixedCost": 1e999, "latency": 0, "cost": {"type": "linear", "rate": 0}}]}',
      '{"required": 1, "riskPerSecond": 0, "options": [{"id": "a", "capacity": 10, "fixedCost": 0, "latency": 0, "cost": {"type": "quadratic", "a": 0, "b": -0.5}}]}',
      '{"required": 1, "riskPerSecond": 0, "options": [{"id": "a", "capacity": 10, "fixedCost": 0, "latency": 0, "cost": {"type": "cpmm", "reserveIn": 1e999, "reserveOut": 100, "fee": 0}}]}',
      '{"required": 1, "riskPerSecond": 0, "options": [{"id": "a", "capacity": 10, "fixedCost": 0, "latency": 0, "cost": {"type": "cpmm", "reserveIn": 100, "reserveOut": 100, "fee": -0.01}}]}',
      '{"required": 1, "riskPerSecond": 0, "options": [{"id": "a", "capacity": 10, "fixedCost": 0, "latency": 0, "cost": {"type": "cpmm", "reserveIn": 100, "reserveOut": -100, "fee": 0}}]}',
      '{"required": 1, "riskPerSecond": 0, "options": [{"id": "a", "capacity": 1e999, "fixedCost": 0, "latency": 0, "cost": {"type": "cpmm", "reserveIn": 100, "reserveOut": 100, "fee": 0}}]}',
    ];
    await writeFile(file, `${lines.join('\n')}\n`);
    const run = runCli(['plan', '--input', file]);
    expect(await run.exited).toBe(1);
    expect(run.stdout().trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      { line: 1, error: 'required: must be a finite number, got Infinity' },
      { line: 2, error: 'riskPerSecond: must be a finite number, got -Infinity' },
      { line: 3, error: 'options[0].fixedCost: must be a finite number, got Infinity' },
      { line: 4, error: 'options[0].cost.b: must be a number >= 0' },
      { line: 5, error: 'options[0].cost.reserveIn: must be a finite number, got Infinity' },
      { line: 6, error: 'options[0].cost.fee: must be in [0, 1)' },
      { line: 7, error: 'options[0].cost.reserveOut: must be a number > 0' },
      // An infinite capacity is a bad number, not something to clamp.
      { line: 8, error: 'options[0].capacity: must be a finite number, got Infinity' },
    ]);
  });

  it('refuses a bad single document naming the file and field, and prints no plan', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ required: 1, riskPerSecond: 0, options: [{ ...linear('a', 10, 0), latency: -1 }] }, null, 2));
    const run = runCli(['plan', '--input', file]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('bad.json: options[0].latency: must be a number >= 0');
    expect(run.stdout()).toBe('');
  });

  it('states the exit code and the error lines in its help', async () => {
    const run = runCli(['plan', '--help']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('{"line": N, "error": "field: what is wrong"}');
    expect(run.stdout()).toContain('1 if any was refused');
    expect(run.stdout()).toContain('"warnings"');
  });

  it('requires --input', async () => {
    const run = runCli(['plan']);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('--input FILE is required');
  });
});
