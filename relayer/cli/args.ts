import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--help` on any command: main prints the usage and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super(usage);
  }
}

/**
 * node's parseArgs, strict, with its errors turned into one-line usage errors naming `usage`;
 * `--help` or `-h` prints `help` (by default the usage line) instead.
 */
export function parseCommandLine<const O extends Options>(args: readonly string[], options: O, usage: string, help = usage) {
  if (args.includes('--help') || args.includes('-h')) throw new HelpRequested(help);
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message.split('\n')[0] ?? cause.message : String(cause);
    throw new UsageError(`${message.replace(/\. To specify a positional argument.*$/, '')} (usage: ${usage})`, { cause });
  }
}

/** An integer option within [min, max]; absent gives `fallback` (undefined = required). */
export function integerOption(params: { name: string; value: string | undefined; min: number; max: number; fallback?: number }): number {
  const { name, value, min, max, fallback } = params;
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return Number(value);
}

/** A positive number option (seconds, say); absent gives undefined. */
export function positiveNumberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) throw new UsageError(`--${name} must be a positive number, got '${value}'`);
  return number;
}
