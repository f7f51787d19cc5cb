import { readFile } from 'node:fs/promises';
import { ConfigError, UsageError } from '../../errors.js';
import { parseWith } from '../../validation.js';
import { scenarioSchema, type Scenario } from './schema.js';

/** A scenario from a parsed JSON value; anything wrong is one ConfigError naming the field. */
export function parseScenario(value: unknown, source = 'scenario'): Scenario {
  return parseWith(scenarioSchema, value, source);
}

/** A scenario file: unreadable is a usage error, not JSON or invalid a ConfigError naming the field. */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new UsageError(`--scenario: cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${file}: not JSON (${(cause as Error).message})`, { cause });
  }
  return parseScenario(value, file);
}
