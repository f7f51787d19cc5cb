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

/**
 * A watcher write refused because the chain's lease epoch in the database is no longer the
 * writer's: another node took the lease over. Not retryable: the writer must stop leading.
 */
export class FencedOutError extends LedgerError {
  override name = 'FencedOutError';
  readonly chainId: number;
  readonly epoch: bigint;
  /** The epoch the database holds now (undefined when no lease was ever claimed). */
  readonly current: bigint | undefined;

  constructor(params: { chainId: number; epoch: bigint; current: bigint | undefined }) {
    super(`chain ${params.chainId}: lease epoch ${params.epoch} is fenced out (the ledger holds epoch ${params.current ?? 'none'}): another node leads the chain; nothing was written`);
    this.chainId = params.chainId;
    this.epoch = params.epoch;
    this.current = params.current;
  }
}
