import { readFile } from 'node:fs/promises';
import { ConfigError, UsageError } from '../errors.js';
import { plan } from '../planner/plan.js';
import { readPlanInput, type CapacityClamp } from '../planner/schema.js';
import type { PlanInstance } from '../planner/types.js';
import { parseCommandLine } from './args.js';
import type { Command } from './commands.js';

const SYNOPSIS = 'relayer plan --input FILE (one JSON instance, or JSON lines; - reads stdin)';
const USAGE = [
  `usage: ${SYNOPSIS}`,
  '',
  'Prints one JSON line per instance, in input order: its plan ({"allocations", "totalCost",',
  '"uncovered", ...}). A cpmm option whose capacity is at or over its pool\'s reserveOut is',
  'planned with a capacity just below the reserve, and the plan lists it in "warnings"',
  '({"id", "field", "capacity", "reserveOut", "clampedTo"}).',
  'JSON lines: a bad line prints {"line": N, "error": "field: what is wrong"} in its place (and',
  'the same on stderr) and the other lines are still planned.',
  'Exit code: 0 when every instance was planned, 1 if any was refused, 2 for a usage error.',
].join('\n');

async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new UsageError(`--input: cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
}

/** One input instance: its JSON value, or why its line is not JSON; `line` only for JSON lines. */
type Entry = { line?: number; value: unknown } | { line: number; notJson: string };

/**
 * One instance (a JSON document, possibly over many lines) or many (one JSON document per
 * non-empty line). A file of a single non-empty line is read as JSON lines, so that its one
 * instance is reported the way it would be in a longer file.
 */
function parseInstances(text: string): Entry[] {
  const lines = text
    .split('\n')
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '');
  if (lines.length > 1) {
    try {
      return [{ value: JSON.parse(text) as unknown }];
    } catch {
      // not one document: JSON lines
    }
  }
  return lines.map(({ line, number }) => {
    try {
      return { line: number, value: JSON.parse(line) as unknown };
    } catch (cause) {
      return { line: number, notJson: `not JSON (${(cause as Error).message})` };
    }
  });
}

/** The plan of one instance as printed: the planner's fields, then any clamped capacities. */
function planOutput(instance: PlanInstance, clamped: readonly CapacityClamp[]): object {
  const result = plan(instance);
  return clamped.length > 0 ? { ...result, warnings: clamped } : result;
}

/** `relayer plan`: the cost-optimal sourcing plan of each instance, as JSON lines in order. */
export const planCommand: Command = {
  async run(args) {
    const { values, positionals } = parseCommandLine(args, { input: { type: 'string' } }, SYNOPSIS, USAGE);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${SYNOPSIS})`);
    if (!values.input) throw new UsageError(`--input FILE is required (usage: ${SYNOPSIS})`);
    const name = values.input === '-' ? 'stdin' : values.input;
    const entries = parseInstances(await readInput(values.input));
    let refused = 0;
    for (const entry of entries) {
      const read = 'notJson' in entry ? { ok: false as const, error: entry.notJson } : readPlanInput(entry.value);
      if (read.ok) {
        process.stdout.write(`${JSON.stringify(planOutput(read.instance, read.clamped))}\n`);
        continue;
      }
      // One document: nothing else to plan, so the error is the command's.
      if (entry.line === undefined) throw new ConfigError(`${name}: ${read.error}`);
      refused += 1;
      process.stdout.write(`${JSON.stringify({ line: entry.line, error: read.error })}\n`);
      process.stderr.write(`relayer plan: ${name} line ${entry.line}: ${read.error}\n`);
    }
    if (refused > 0) process.stderr.write(`relayer plan: ${refused} of ${entries.length} instances refused\n`);
    return refused > 0 ? 1 : 0;
  },
};
