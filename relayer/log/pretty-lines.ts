/**
 * A terminal's view of pino's JSON lines: `12:00:01.250 WARN  [Worker::legs] job failed; retrying
 * job=send-0x… leg=0x… attempt=2`, the error's causes and stack indented below. pino-pretty is not
 * a dependency; this is what an operator at a terminal needs of it, written where pino writes.
 */

const LEVELS: Readonly<Record<number, { name: string; color: number }>> = {
  10: { name: 'TRACE', color: 90 },
  20: { name: 'DEBUG', color: 36 },
  30: { name: 'INFO', color: 32 },
  40: { name: 'WARN', color: 33 },
  50: { name: 'ERROR', color: 31 },
  60: { name: 'FATAL', color: 35 },
};

/** Keys every line has, shown in the head of the line rather than as `key=value`. */
const HEAD_KEYS = new Set(['level', 'time', 'msg', 'at', 'pid', 'hostname', 'err', 'node']);

const text = (value: unknown): string => (typeof value === 'string' ? (/\s/.test(value) ? JSON.stringify(value) : value) : JSON.stringify(value));

interface LoggedError {
  type?: string;
  message?: string;
  stack?: string;
  causes?: { type?: string; message?: string }[];
}

/** One JSON line as one or more terminal lines; a line that is not JSON passes as it is. */
export function prettyLine(line: string, colors: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = LEVELS[Number(entry.level)] ?? { name: String(entry.level), color: 0 };
  const paint = (color: number, value: string): string => (colors ? `\u001b[${color}m${value}\u001b[0m` : value);
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(entry)
    .filter(([key, value]) => !HEAD_KEYS.has(key) && value !== undefined)
    .map(([key, value]) => `${paint(90, `${key}=`)}${text(value)}`);
  const at = typeof entry.at === 'string' ? ` ${paint(90, `[${entry.at}]`)}` : '';
  const lines = [`${time} ${paint(level.color, level.name.padEnd(5))}${at} ${String(entry.msg ?? '')}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}`];
  const err = entry.err as LoggedError | undefined;
  if (err && typeof err === 'object') {
    lines.push(`    ${paint(31, `${err.type ?? 'Error'}: ${err.message ?? ''}`)}`);
    for (const cause of err.causes ?? []) lines.push(`    caused by ${cause.type ?? 'Error'}: ${cause.message ?? ''}`);
    if (err.stack) lines.push(...err.stack.split('\n').slice(1).map((frame) => paint(90, `  ${frame}`)));
  }
  return `${lines.join('\n')}\n`;
}

/** A pino destination that writes `prettyLine`s to `out` (a terminal). */
export function prettyDestination(out: { write(text: string): unknown; isTTY?: boolean }): { write(chunk: string): void } {
  const colors = out.isTTY === true;
  return { write: (chunk) => void out.write(chunk.split('\n').filter((line) => line !== '').map((line) => prettyLine(line, colors)).join('')) };
}
