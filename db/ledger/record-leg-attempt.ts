/**
 * Records a failed try at a leg's current step that did not change its status (an RPC error,
 * a replaced transaction): bumps `attempts`, keeps the latest error and, for a resubmission,
 * the transaction now in flight. Not an event: the trail records transitions only.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import type { LegStatus } from '../leg-state-machine.js';
import { legs } from '../schema/legs.js';

export interface RecordLegAttemptParameters {
  readonly legId: Hash;
  /** Applies only if the leg still has this status (another worker may have moved it on). */
  readonly status: LegStatus;
  readonly error: string;
  /** A replacement source transaction, while the leg is `submitted`. */
  readonly sourceTxHash?: Hash;
}

/** Returns the new attempt count, or undefined if the leg is not (or no longer) at `status`. */
export async function recordLegAttempt(
  db: LedgerExecutor,
  params: RecordLegAttemptParameters,
): Promise<number | undefined> {
  const [row] = await db
    .update(legs)
    .set({
      attempts: sql`${legs.attempts} + 1`,
      lastError: params.error,
      updatedAt: sql`now()`,
      ...(params.sourceTxHash !== undefined && params.status === 'submitted' ? { sourceTxHash: params.sourceTxHash } : {}),
    })
    .where(and(eq(legs.id, params.legId), eq(legs.status, params.status)))
    .returning({ attempts: legs.attempts });
  return row?.attempts;
}
