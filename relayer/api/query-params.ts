/**
 * Query parameters as the API takes them: strings, parsed strictly, so that whatever reaches the
 * ledger is a value it can hold. Anything else is a 400 naming the parameter, never a 5xx.
 */

/** The earliest instant Postgres holds (4714-11-24 BC) and the latest a JavaScript Date does. */
export const INSTANT_RANGE = { min: Date.UTC(-4713, 10, 24), max: 8.64e15 } as const;

/**
 * An integer written in decimal digits (no sign, exponent, fraction, hex or spaces) within
 * `[min, max]`, or undefined: `1e2`, `0x10`, `Infinity`, `-0`, `5.0` and `99999999999999999999`
 * are not limits.
 */
export function integerParam(text: string, range: { readonly min: number; readonly max: number }): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= range.min && value <= range.max ? value : undefined;
}

/** `Date#toISOString`'s own form: `2025-03-01T09:00:00.000Z`, or `+012025-...` past year 9999. */
const ISO_INSTANT = /^([0-9]{4}|[+-][0-9]{6})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;

/**
 * An instant written as `toISOString` writes it, that exists (no February 30) and that both
 * Postgres and JavaScript can hold (INSTANT_RANGE), or undefined.
 */
export function instantParam(text: string): Date | undefined {
  if (!ISO_INSTANT.test(text)) return undefined;
  const time = Date.parse(text);
  if (!Number.isFinite(time) || time < INSTANT_RANGE.min || time > INSTANT_RANGE.max) return undefined;
  const instant = new Date(time);
  return instant.toISOString() === text ? instant : undefined;
}
