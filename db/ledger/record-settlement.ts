/**
 * Records a sourcing plan: the settlement, its legs (all `planned`) and each leg's first
 * event, in one transaction. Ids are derived (settlement from shortfall and revision, leg from
 * settlement and index), so recording the same plan again, as a retried job does, changes
 * nothing and returns the existing ids. The first plan recorded under a revision stands: a
 * different plan for the same shortfall is a new revision.
 */
import { inArray, sql } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { legIdOf, settlementIdOf } from '../ids.js';
import type { Transport } from '../schema/enums.js';
import { legEvents, legs, type LegKind } from '../schema/legs.js';
import { settlements } from '../schema/settlements.js';
import { bulkInsert, columnValues, hexValue, inIdOrder, instantValue, integerValue, jsonValue } from './bulk-insert.js';
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
    const legRows = params.legs.map((leg, index) => ({ leg, index, settlementId, id: legIdOf({ settlementId, index }), params }));
    return { params, settlementId, legRows, legIds: legRows.map(({ id }) => id) };
  });
  const subject = planned.length === 1 ? `settlement ${planned[0]?.settlementId}` : `${planned.length} settlements`;
  try {
    return await db.transaction(async (tx) => {
      const inserting = inIdOrder(planned.map((entry) => ({ ...entry, id: entry.settlementId })));
      const inserted = await tx.execute<{ id: Hash }>(sql`${bulkInsert(settlements, [
        columnValues(settlements.id, 'text', inserting.map(({ settlementId }) => settlementId)),
        columnValues(settlements.shortfallId, 'text', inserting.map(({ params }) => hexValue(params.shortfallId))),
        columnValues(settlements.revision, 'integer', inserting.map(({ params }) => params.revision)),
        columnValues(settlements.requiredAmount, 'numeric', inserting.map(({ params }) => integerValue(params.requiredAmount))),
        columnValues(settlements.coveredAmount, 'numeric', inserting.map(({ params }) => integerValue(params.coveredAmount))),
        columnValues(settlements.uncoveredAmount, 'numeric', inserting.map(({ params }) => integerValue(params.requiredAmount - params.coveredAmount))),
        columnValues(settlements.plannedCostUsd, 'numeric', inserting.map(({ params }) => params.plannedCostUsd)),
        columnValues(settlements.plan, 'jsonb', inserting.map(({ params }) => jsonValue(params.plan))),
      ])} on conflict (id) do nothing returning id`);
      const fresh = new Set(inserted.rows.map((row) => row.id));
      // Only the first of a settlement planned twice in one batch writes its legs.
      const created = new Set(planned.filter(({ settlementId }) => fresh.delete(settlementId)));
      const newLegs = inIdOrder([...created].flatMap(({ legRows }) => legRows));
      if (newLegs.length > 0) {
        await tx.execute(
          bulkInsert(legs, [
            columnValues(legs.id, 'text', newLegs.map(({ id }) => id)),
            columnValues(legs.settlementId, 'text', newLegs.map(({ settlementId }) => settlementId)),
            columnValues(legs.legIndex, 'integer', newLegs.map(({ index }) => index)),
            columnValues(legs.kind, 'leg_kind', newLegs.map(({ leg }) => leg.kind)),
            columnValues(legs.sourceChainId, 'bigint', newLegs.map(({ leg }) => leg.sourceChainId)),
            columnValues(legs.destinationChainId, 'bigint', newLegs.map(({ leg }) => leg.destinationChainId)),
            columnValues(legs.transport, 'transport', newLegs.map(({ leg }) => leg.transport)),
            columnValues(legs.account, 'text', newLegs.map(({ leg }) => hexValue(leg.account))),
            columnValues(legs.marketId, 'text', newLegs.map(({ leg }) => hexValue(leg.marketId))),
            columnValues(legs.amount, 'numeric', newLegs.map(({ leg }) => integerValue(leg.amount))),
            columnValues(legs.positionSize, 'numeric', newLegs.map(({ leg }) => integerValue(leg.positionSize ?? 0n))),
            columnValues(legs.deadline, 'timestamptz', newLegs.map(({ leg }) => instantValue(leg.deadline))),
          ]),
        );
        // The first event of each leg: its planning (the database checks it matches the leg).
        await tx.execute(
          bulkInsert(legEvents, [
            columnValues(legEvents.legId, 'text', newLegs.map(({ id }) => id)),
            columnValues(legEvents.seq, 'integer', newLegs.map(() => 1)),
            columnValues(legEvents.toStatus, 'leg_status', newLegs.map(() => 'planned')),
            columnValues(legEvents.actor, 'text', newLegs.map(({ params }) => params.actor ?? null)),
            // When the plans say when they were made; else the database's clock, as for `recorded_at`.
            ...(newLegs.some(({ params }) => params.plannedAt)
              ? [columnValues(legEvents.occurredAt, 'timestamptz', newLegs.map(({ params }) => instantValue(params.plannedAt ?? new Date())))]
              : []),
            columnValues(legEvents.detail, 'jsonb', newLegs.map(({ settlementId, params }) => jsonValue({ settlementId, revision: params.revision }))),
          ]),
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
