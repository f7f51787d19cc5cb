import { readFile } from 'node:fs/promises';
import { ConfigError, UsageError } from '../errors.js';
import { plan } from '../planner/plan.js';
import { parsePlanInstance } from '../planner/schema.js';
import { parseCommandLine } from './args.js';
import type { Command } from './commands.js';

const USAGE = 'relayer plan --input FILE (one JSON instance, or JSON lines; - reads stdin)';

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

/** One instance (a JSON document) or many (one JSON document per non-empty line). */
function parseInstances(text: string, file: string): { value: unknown; source: string }[] {
  try {
    return [{ value: JSON.parse(text), source: file }];
  } catch {
    return text
      .split('\n')
      .map((line, index) => ({ line: line.trim(), number: index + 1 }))
      .filter(({ line }) => line !== '')
      .map(({ line, number }) => {
        try {
          return { value: JSON.parse(line) as unknown, source: `${file} line ${number}` };
        } catch (cause) {
          throw new ConfigError(`${file} line ${number}: not JSON (${(cause as Error).message})`, { cause });
        }
      });
  }
}

/** `relayer plan`: the cost-optimal sourcing plan of each instance, as JSON lines in order. */
export const planCommand: Command = {
  async run(args) {
    const { values, positionals } = parseCommandLine(args, { input: { type: 'string' } }, USAGE);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${USAGE})`);
    if (!values.input) throw new UsageError(`--input FILE is required (usage: ${USAGE})`);
    const instances = parseInstances(await readInput(values.input), values.input === '-' ? 'stdin' : values.input);
    // Validate everything before printing anything: a bad line never leaves half an output.
    const parsed = instances.map(({ value, source }) => parsePlanInstance(value, source));
    for (const instance of parsed) process.stdout.write(`${JSON.stringify(plan(instance))}\n`);
    return 0;
  },
};
