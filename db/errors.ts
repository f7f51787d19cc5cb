/**
 * The ledger's errors. None is retryable: each says the caller asked for something the ledger
 * refuses (a lost race is not an error, see TransitionLegReturnType).
 */
import { RelayerError } from '../relayer/errors.js';
import type { LegStatus } from './leg-state-machine.js';

export class LedgerError extends RelayerError {
  override name = 'LedgerError';
}

/** The state machine (in code or in the database) refuses this transition. */
export class IllegalLegTransitionError extends LedgerError {
  override name = 'IllegalLegTransitionError';
  readonly legId: string;
  readonly from: LegStatus | undefined;
  readonly to: LegStatus;

  constructor(params: { legId: string; from: LegStatus | undefined; to: LegStatus; reason: string; cause?: unknown }) {
    super(`leg ${params.legId}: illegal transition to ${params.to}`, {
      details: params.reason,
      ...(params.cause === undefined ? {} : { cause: params.cause }),
    });
    this.legId = params.legId;
    this.from = params.from;
    this.to = params.to;
  }
}

export class LegNotFoundError extends LedgerError {
  override name = 'LegNotFoundError';
  readonly legId: string;

  constructor(legId: string) {
    super(`leg ${legId} is not in the ledger`);
    this.legId = legId;
  }
}

/** The audit trail or a leg's fixed columns were about to be rewritten; the database refused. */
export class LedgerIntegrityError extends LedgerError {
  override name = 'LedgerIntegrityError';
}

/** Migrations could not be applied, or the database's history does not match this build's. */
export class MigrationError extends LedgerError {
  override name = 'MigrationError';
}
