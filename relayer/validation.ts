import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ConfigError } from './errors.js';

/** `chains[1].contracts.lzEndpoint`: where in a document a value sits. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '') || '(root)';
}

/**
 * Validates `value` against `schema`; a bad value throws one ConfigError that names the
 * source, the field and what is wrong with it (the first issue zod finds).
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ConfigError(`${source}: ${fieldPath(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`);
}

/** A JSON file's value; unreadable or not JSON is a ConfigError naming `what` and the file. */
export async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read ${what} ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ConfigError(`${what} ${file} is not JSON: ${(cause as Error).message}`, { cause });
  }
}
