/**
 * Reads the SQLSTATE of a database error, whichever driver raised it and however deep drizzle
 * wrapped it (drizzle puts the driver's error in `cause`).
 */

/** SQLSTATEs raised by the ledger's triggers (migrations/0001_leg_guards.sql). */
export const LEDGER_SQLSTATE = {
  illegalTransition: 'RL001',
  immutableColumn: 'RL002',
  appendOnly: 'RL003',
  transitionWithoutEvent: 'RL004',
  inconsistentEvent: 'RL005',
} as const;

export interface PgErrorInfo {
  readonly code: string;
  readonly message: string;
}

export function pgErrorInfo(error: unknown): PgErrorInfo | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; depth += 1) {
    const code: unknown = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return { code, message: current.message };
    current = current.cause;
  }
  return undefined;
}

export function hasSqlState(error: unknown, code: string): boolean {
  return pgErrorInfo(error)?.code === code;
}
