/**
 * Records a sourcing plan: the settlement, its legs (all `planned`) and each leg's first
 * event, in one transaction. Ids are derived (settlement from shortfall and revision, leg from
 * settlement and index), so recording the same plan again, as a retried job does, changes
 * nothing and returns the existing ids. The first plan recorded under a revision stands: a
 * different plan for the same shortfall is a new revision.
 */
import { inArray } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { legIdOf, settlementIdOf } from '../ids.js';
import type { Transport } from '../schema/enums.js';
import { legEvents, legs, type LegKind } from '../schema/legs.js';
import { settlements } from '../schema/settlements.js';
import { translateLedgerError } from './translate-error.js';

export interface PlannedLeg {
  readonly kind: LegKind;
  readonly sourceChainId: number;
  readonly destinationChainId: number;
  /** Null for a `local` leg. */
  readonly transport: Transport | null;
  readonly account: Address;
  readonly marketId?: Hash;
  readonly amount: bigint;
  /** Signed size a liquidity leg absorbs; 0 otherwise. */
  readonly positionSize?: bigint;
  readonly deadline?: Date;
}

export interface RecordSettlementParameters {
  readonly shortfallId: Hash;
  readonly revision: number;
  readonly requiredAmount: bigint;
  readonly coveredAmount: bigint;
  /** The planner's estimate in USD, as a decimal string. */
  readonly plannedCostUsd: string;
  /** The planner's output, verbatim. */
  readonly plan: Record<string, unknown>;
  readonly legs: readonly PlannedLeg[];
  readonly actor?: string;
  readonly plannedAt?: Date;
}

export interface RecordSettlementReturnType {
  readonly settlementId: Hash;
  readonly legIds: readonly Hash[];
  /** False when this settlement was already recorded (nothing was written). */
  readonly created: boolean;
}

export async function recordSettlement(
  db: LedgerExecutor,
  params: RecordSettlementParameters,
): Promise<RecordSettlementReturnType> {
  const [recorded] = await recordSettlements(db, [params]);
  if (!recorded) throw new Error('recordSettlements returned nothing for one settlement');
  return recorded;
}

/**
 * Records many plans in one transaction of three inserts (settlements, legs, first events),
 * however many there are: under load the orchestrator records its plans in batches. Each
 * settlement is created or found exactly as `recordSettlement` does it, one by one.
 */
export async function recordSettlements(
  db: LedgerExecutor,
  batch: readonly RecordSettlementParameters[],
): Promise<RecordSettlementReturnType[]> {
  const planned = batch.map((params) => {
    const settlementId = settlementIdOf({ shortfallId: params.shortfallId, revision: params.revision });
    return { params, settlementId, legIds: params.legs.map((_, index) => legIdOf({ settlementId, index })) };
  });
  const subject = planned.length === 1 ? `settlement ${planned[0]?.settlementId}` : `${planned.length} settlements`;
  try {
    return await db.transaction(async (tx) => {
      const inserted = await tx
        .insert(settlements)
        .values(
          planned.map(({ params, settlementId }) => ({
            id: settlementId,
            shortfallId: params.shortfallId,
            revision: params.revision,
            requiredAmount: params.requiredAmount,
            coveredAmount: params.coveredAmount,
            uncoveredAmount: params.requiredAmount - params.coveredAmount,
            plannedCostUsd: params.plannedCostUsd,
            plan: params.plan,
          })),
        )
        .onConflictDoNothing({ target: settlements.id })
        .returning({ id: settlements.id });
      const fresh = new Set(inserted.map((row) => row.id));
      // Only the first of a settlement planned twice in one batch writes its legs.
      const created = new Set(planned.filter(({ settlementId }) => fresh.delete(settlementId)));
      const newLegs = [...created].flatMap(({ params, settlementId, legIds }) =>
        params.legs.map((leg, index) => ({ leg, index, settlementId, legId: legIds[index] ?? legIdOf({ settlementId, index }), params })),
      );
      if (newLegs.length > 0) {
        await tx.insert(legs).values(
          newLegs.map(({ leg, index, settlementId, legId }) => ({
            id: legId,
            settlementId,
            legIndex: index,
            kind: leg.kind,
            sourceChainId: leg.sourceChainId,
            destinationChainId: leg.destinationChainId,
            transport: leg.transport,
            account: leg.account,
            marketId: leg.marketId,
            amount: leg.amount,
            positionSize: leg.positionSize ?? 0n,
            deadline: leg.deadline,
          })),
        );
        await tx.insert(legEvents).values(
          newLegs.map(({ legId, settlementId, params }) => ({
            legId,
            seq: 1,
            fromStatus: null,
            toStatus: 'planned' as const,
            actor: params.actor,
            occurredAt: params.plannedAt,
            detail: { settlementId, revision: params.revision },
          })),
        );
      }
      const existingIds = planned.filter((entry) => !created.has(entry)).map((entry) => entry.settlementId);
      const existing =
        existingIds.length === 0
          ? []
          : await tx.select({ id: legs.id, settlementId: legs.settlementId }).from(legs).where(inArray(legs.settlementId, existingIds)).orderBy(legs.legIndex);
      return planned.map((entry) =>
        created.has(entry)
          ? { settlementId: entry.settlementId, legIds: entry.legIds, created: true }
          : { settlementId: entry.settlementId, legIds: existing.filter((leg) => leg.settlementId === entry.settlementId).map((leg) => leg.id), created: false },
      );
    });
  } catch (error) {
    throw translateLedgerError({ error, subject });
  }
}
