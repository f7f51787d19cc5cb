/**
 * Moves a leg one step along the state machine and appends its event, in one transaction.
 * The update is a compare-and-set on the status the caller believes the leg has; when two
 * workers race, the database serializes them on the row and exactly one update matches. The
 * other gets `{ outcome: 'lost' }` with the status the winner left, never an exception: losing
 * a race is the normal fate of a retried job. (This relies on READ COMMITTED, Postgres's
 * default: a stricter isolation level turns the loser's wait into a serialization error.)
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Hash } from 'viem';
import type { LedgerExecutor, LedgerTransaction } from '../client.js';
import { IllegalLegTransitionError, LegNotFoundError } from '../errors.js';
import { edgeRefusal, REFUNDABLE_FAILED_FROM, transitionRefusal, type LegStatus } from '../leg-state-machine.js';
import { messageIdOf } from '../message-id.js';
import { legEvents, legs, type Leg, type LegEvent } from '../schema/legs.js';
import type { LegEvidence } from './evidence.js';
import { translateLedgerError } from './translate-error.js';

export interface TransitionLegParameters {
  readonly legId: Hash;
  /** The status the caller read; the transition applies only if the leg still has it. */
  readonly from: LegStatus;
  readonly to: LegStatus;
  readonly evidence?: LegEvidence;
  /** Why the leg failed; required when `to` is `failed`. */
  readonly error?: string;
  /** Which node or worker is writing. */
  readonly actor?: string;
}

export type TransitionLegReturnType =
  | { readonly outcome: 'applied'; readonly leg: Leg; readonly event: LegEvent }
  /** Another writer moved the leg first; `current` is where it is now (maybe already `to`). */
  | { readonly outcome: 'lost'; readonly current: LegStatus; readonly leg: Leg };

export type TransitionLegErrorType = IllegalLegTransitionError | LegNotFoundError;

export async function transitionLeg(db: LedgerExecutor, params: TransitionLegParameters): Promise<TransitionLegReturnType> {
  const { legId, from, to } = params;
  const refusal = edgeRefusal(from, to);
  if (refusal !== undefined) throw new IllegalLegTransitionError({ legId, from, to, reason: refusal });
  if (to === 'failed' && !params.error) {
    throw new IllegalLegTransitionError({ legId, from, to, reason: 'a failure must say why (error)' });
  }
  try {
    return await db.transaction(async (tx) => {
      const [leg] = await tx
        .update(legs)
        .set(legUpdate(params))
        .where(
          and(
            eq(legs.id, legId),
            eq(legs.status, from),
            // A refund is owed only if the leg burned on its source before failing.
            to === 'refunded' ? inArray(legs.failedFrom, [...REFUNDABLE_FAILED_FROM]) : undefined,
          ),
        )
        .returning();
      if (leg === undefined) return lostOrRefused(tx, params);
      const [event] = await tx.insert(legEvents).values(eventRow({ leg, params })).returning();
      if (event === undefined) throw new Error(`leg ${legId}: the event insert returned no row`);
      return { outcome: 'applied', leg, event };
    });
  } catch (error) {
    throw translateLedgerError({ error, subject: `leg ${legId}`, transition: { legId, from, to } });
  }
}

function legUpdate(params: TransitionLegParameters): PgUpdateSetSource<typeof legs> {
  const { to, evidence } = params;
  const set: PgUpdateSetSource<typeof legs> = {
    status: to,
    version: sql`${legs.version} + 1`,
    updatedAt: sql`now()`,
  };
  // Recorded once: repeating it is fine, a different one is refused by the database (RL002).
  if (evidence?.message !== undefined) set.messageId = messageIdOf(evidence.message);
  if (to === 'submitted' || to === 'sent') {
    set.sourceTxHash = evidence?.txHash;
    if (to === 'sent') set.sourceBlock = evidence?.blockNumber;
  }
  if (to === 'delivered') {
    set.destinationTxHash = evidence?.txHash;
    set.destinationBlock = evidence?.blockNumber;
  }
  if (to === 'failed') {
    set.failedFrom = params.from;
    set.lastError = params.error;
  }
  return set;
}

/** The chain a step's evidence is on unless the caller says: source until the message is sent, destination after. */
function defaultEvidenceChain(args: { leg: Leg; from: LegStatus; to: LegStatus }): number {
  const sourceSide: readonly LegStatus[] = ['planned', 'submitted', 'sent', 'refunded'];
  const side = args.to === 'failed' ? args.from : args.to;
  return sourceSide.includes(side) ? args.leg.sourceChainId : args.leg.destinationChainId;
}

function eventRow(args: { leg: Leg; params: TransitionLegParameters }): typeof legEvents.$inferInsert {
  const { leg, params } = args;
  const evidence = params.evidence ?? {};
  const onChain = evidence.txHash !== undefined || evidence.fee !== undefined || evidence.blockNumber !== undefined;
  return {
    legId: leg.id,
    seq: leg.version,
    fromStatus: params.from,
    toStatus: params.to,
    chainId: evidence.chainId ?? (onChain ? defaultEvidenceChain({ leg, from: params.from, to: params.to }) : undefined),
    txHash: evidence.txHash,
    blockNumber: evidence.blockNumber,
    blockHash: evidence.blockHash,
    messageId: evidence.message === undefined ? undefined : messageIdOf(evidence.message),
    amount: evidence.amount,
    fee: evidence.fee,
    feeUsd: evidence.feeUsd,
    error: params.error,
    actor: params.actor,
    detail: evidence.detail ?? {},
    occurredAt: evidence.occurredAt,
  };
}

async function lostOrRefused(tx: LedgerTransaction, params: TransitionLegParameters): Promise<TransitionLegReturnType> {
  const [leg] = await tx.select().from(legs).where(eq(legs.id, params.legId));
  if (leg === undefined) throw new LegNotFoundError(params.legId);
  if (leg.status !== params.from) return { outcome: 'lost', current: leg.status, leg };
  // Still at `from`, so only the refund condition can have failed the update.
  const reason =
    transitionRefusal({ from: params.from, to: params.to, failedFrom: leg.failedFrom }) ??
    `the leg is ${leg.status} but did not accept ${params.to}`;
  throw new IllegalLegTransitionError({ legId: params.legId, from: params.from, to: params.to, reason });
}
