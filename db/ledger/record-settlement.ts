/**
 * Records a sourcing plan: the settlement, its legs (all `planned`) and each leg's first
 * event, in one transaction. Ids are derived (settlement from shortfall and revision, leg from
 * settlement and index), so recording the same plan again, as a retried job does, changes
 * nothing and returns the existing ids. The first plan recorded under a revision stands: a
 * different plan for the same shortfall is a new revision.
 */
import { eq } from 'drizzle-orm';
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
  const settlementId = settlementIdOf({ shortfallId: params.shortfallId, revision: params.revision });
  const legIds = params.legs.map((_, index) => legIdOf({ settlementId, index }));
  try {
    return await db.transaction(async (tx) => {
      const inserted = await tx
        .insert(settlements)
        .values({
          id: settlementId,
          shortfallId: params.shortfallId,
          revision: params.revision,
          requiredAmount: params.requiredAmount,
          coveredAmount: params.coveredAmount,
          uncoveredAmount: params.requiredAmount - params.coveredAmount,
          plannedCostUsd: params.plannedCostUsd,
          plan: params.plan,
        })
        .onConflictDoNothing({ target: settlements.id })
        .returning({ id: settlements.id });
      if (inserted.length === 0) {
        const existing = await tx.select({ id: legs.id }).from(legs).where(eq(legs.settlementId, settlementId)).orderBy(legs.legIndex);
        return { settlementId, legIds: existing.map((leg) => leg.id), created: false };
      }
      if (params.legs.length > 0) {
        await tx.insert(legs).values(
          params.legs.map((leg, index) => ({
            id: legIds[index] ?? legIdOf({ settlementId, index }),
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
          legIds.map((legId) => ({
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
      return { settlementId, legIds, created: true };
    });
  } catch (error) {
    throw translateLedgerError({ error, subject: `settlement ${settlementId}` });
  }
}
