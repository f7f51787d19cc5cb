/** Turns the database's refusals (the triggers' RL SQLSTATEs) into the ledger's typed errors. */
import { IllegalLegTransitionError, LedgerError, LedgerIntegrityError } from '../errors.js';
import type { LegStatus } from '../leg-state-machine.js';
import { LEDGER_SQLSTATE, pgErrorInfo } from '../pg-error.js';

export function translateLedgerError(params: {
  error: unknown;
  /** What was being written, for the message: `leg 0x…`, `settlement 0x…`. */
  subject: string;
  /** The transition being made, when there was one. */
  transition?: { legId: string; from: LegStatus; to: LegStatus };
}): unknown {
  const { error, subject, transition } = params;
  if (error instanceof LedgerError) return error;
  const info = pgErrorInfo(error);
  if (info === undefined) return error;
  if (info.code === LEDGER_SQLSTATE.illegalTransition && transition !== undefined) {
    return new IllegalLegTransitionError({ ...transition, reason: info.message, cause: error });
  }
  if ((Object.values(LEDGER_SQLSTATE) as string[]).includes(info.code)) {
    return new LedgerIntegrityError(`${subject}: the ledger refused the write`, { details: info.message, cause: error });
  }
  return error;
}
