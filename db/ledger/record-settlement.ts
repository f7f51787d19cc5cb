/**
 * Records a sourcing plan: the settlement, its legs (all `planned`) and each leg's first
 * event, in one transaction. Ids are derived (settlement from shortfall and revision, leg from
 * settlement and index), so recording the same plan again, as a retried job does, changes
 * nothing and returns the existing ids. The first plan recorded under a revision stands: a
 * different plan for the same shortfall is a new revision.
 *
 * Each collateral or liquidity leg reserves its amount on its source (db/ledger/reservations.ts)
 * for as long as it has not ended. A leg that says what capacity its planner read on chain
 * (`reservation`) is checked against what the source has already committed at that block, under
 * the source's lock: a plan that would take more than the source holds is not recorded and
 * comes back refused, with the numbers, for the planner to plan again without that source.
 */
import { inArray, sql } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { LedgerError } from '../errors.js';
import { legIdOf, settlementIdOf } from '../ids.js';
import type { Transport } from '../schema/enums.js';
import { legEvents, legs, type LegKind } from '../schema/legs.js';
import { settlements } from '../schema/settlements.js';
import { bulkInsert, columnValues, hexValue, inIdOrder, instantValue, integerValue, jsonValue } from './bulk-insert.js';
import {
  lockReservationSources,
  reservationKey,
  reservationSourceOf,
  reservedOnSources,
  type ReservationSource,
  type ReservationSourceKind,
} from './reservations.js';
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
  /**
   * The part of the account's required amount the leg is planned to cover (collateral base
   * units): `amount` for a collateral leg; for a liquidity leg what the absorption restores (its
   * amount is the margin the backstop needs); for a local leg what the close relieves.
   */
  readonly relief: bigint;
  /** Signed size a liquidity leg absorbs; 0 otherwise. */
  readonly positionSize?: bigint;
  readonly deadline?: Date;
  /**
   * The gross capacity of the leg's source as the planner read it on chain, and at which block:
   * the leg is recorded only if what the source has committed at that block, plus this amount,
   * fits in it. Without it the leg still reserves its amount, unchecked. Not for a local leg.
   */
  readonly reservation?: LegReservation;
}

export interface LegReservation {
  readonly capacity: bigint;
  readonly observedBlock: bigint;
}

/** Why a plan was not recorded: one of its legs asked a source for more than it has left. */
export interface ReservationRefusal {
  readonly legIndex: number;
  readonly sourceChainId: number;
  readonly source: ReservationSourceKind;
  /** The capacity the leg's planner read (its `reservation.capacity`). */
  readonly capacity: bigint;
  /** What the source had committed at the leg's observed block: other plans, this batch's earlier ones and the plan's own earlier legs. */
  readonly committed: bigint;
  /** The leg's amount. */
  readonly requested: bigint;
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
  /** False when this settlement was already recorded, or refused (nothing was written). */
  readonly created: boolean;
  /** Present when the plan was not recorded for want of capacity; `legIds` is then empty. */
  readonly refused?: ReservationRefusal;
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
  for (const { settlementId, legRows } of planned) {
    for (const { leg, index } of legRows) {
      if (leg.reservation === undefined) continue;
      if (leg.kind === 'local' || leg.kind === 'auction') throw new LedgerError(`settlement ${settlementId} leg ${index}: a ${leg.kind} leg has no source to reserve`);
      if (leg.reservation.capacity < 0n || leg.reservation.observedBlock < 0n) {
        throw new LedgerError(`settlement ${settlementId} leg ${index}: reservation capacity and block must not be negative`);
      }
    }
  }
  if (planned.length === 0) return [];
  try {
    return await db.transaction(async (tx) => {
      const refused = await checkReservations(tx, planned);
      const inserting = inIdOrder(planned.filter(({ settlementId }) => !refused.has(settlementId)).map((entry) => ({ ...entry, id: entry.settlementId })));
      const inserted =
        inserting.length === 0
          ? { rows: [] }
          : await tx.execute<{ id: Hash }>(sql`${bulkInsert(settlements, [
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
            columnValues(legs.relief, 'numeric', newLegs.map(({ leg }) => integerValue(leg.relief))),
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
      const existingIds = planned.filter((entry) => !created.has(entry) && !refused.has(entry.settlementId)).map((entry) => entry.settlementId);
      const existing =
        existingIds.length === 0
          ? []
          : await tx.select({ id: legs.id, settlementId: legs.settlementId }).from(legs).where(inArray(legs.settlementId, existingIds)).orderBy(legs.legIndex);
      return planned.map((entry): RecordSettlementReturnType => {
        const refusal = refused.get(entry.settlementId);
        if (refusal) return { settlementId: entry.settlementId, legIds: [], created: false, refused: refusal };
        return created.has(entry)
          ? { settlementId: entry.settlementId, legIds: entry.legIds, created: true }
          : { settlementId: entry.settlementId, legIds: existing.filter((leg) => leg.settlementId === entry.settlementId).map((leg) => leg.id), created: false };
      });
    });
  } catch (error) {
    throw translateLedgerError({ error, subject });
  }
}

interface PlannedSettlement {
  readonly settlementId: Hash;
  readonly legRows: readonly { readonly leg: PlannedLeg; readonly index: number }[];
}

/**
 * Locks every source the batch draws from, then walks its new plans in order: a plan whose leg
 * would take its source past the capacity the leg's planner read is refused; the legs of the
 * plans it accepts count against the plans after them. Plans already in the ledger (the same
 * id, seen under the locks, so also one that committed while this waited) are not checked
 * again, nor is the repeat of a plan earlier in the batch. Returns the refusals by settlement.
 */
async function checkReservations(tx: LedgerExecutor, planned: readonly PlannedSettlement[]): Promise<Map<Hash, ReservationRefusal>> {
  const refused = new Map<Hash, ReservationRefusal>();
  const sources = planned.flatMap(({ legRows }) => legRows.flatMap(({ leg }) => reservationSourceOf(leg) ?? []));
  if (sources.length === 0) return refused;
  await lockReservationSources(tx, sources);
  if (!planned.some(({ legRows }) => legRows.some(({ leg }) => leg.reservation !== undefined))) return refused;
  // Plans drawing on a source that the ledger already has: their legs are already committed.
  const drawing = [...new Set(planned.filter(({ legRows }) => legRows.some(({ leg }) => reservationSourceOf(leg))).map(({ settlementId }) => settlementId))];
  const known = new Set((await tx.select({ id: settlements.id }).from(settlements).where(inArray(settlements.id, drawing))).map(({ id }) => id));
  // What the ledger has committed, per source and observed block the new plans' legs name.
  const reads = new Map<string, { readonly source: ReservationSource; readonly observedBlock: bigint }>();
  for (const { settlementId, legRows } of planned) {
    if (known.has(settlementId)) continue;
    for (const { leg } of legRows) {
      const source = reservationSourceOf(leg);
      if (source && leg.reservation) reads.set(`${reservationKey(source)}@${leg.reservation.observedBlock}`, { source, observedBlock: leg.reservation.observedBlock });
    }
  }
  const readList = [...reads.entries()];
  const committedAt = new Map(
    (await reservedOnSources(tx, readList.map(([, { source, observedBlock }]) => ({ ...source, observedBlock })))).map((committed, i) => [readList[i]?.[0] ?? '', committed]),
  );
  // This batch's accepted legs, per source: planned, so committed at every block.
  const accepted = new Map<string, bigint>();
  const seen = new Set<Hash>();
  for (const { settlementId, legRows } of planned) {
    if (known.has(settlementId) || seen.has(settlementId)) continue;
    seen.add(settlementId);
    const own = new Map<string, bigint>();
    let refusal: ReservationRefusal | undefined;
    for (const { leg, index } of legRows) {
      const source = reservationSourceOf(leg);
      if (!source) continue;
      const key = reservationKey(source);
      const held = (accepted.get(key) ?? 0n) + (own.get(key) ?? 0n);
      if (leg.reservation) {
        const committed = (committedAt.get(`${key}@${leg.reservation.observedBlock}`) ?? 0n) + held;
        if (committed + leg.amount > leg.reservation.capacity) {
          refusal = { legIndex: index, sourceChainId: source.sourceChainId, source: source.source, capacity: leg.reservation.capacity, committed, requested: leg.amount };
          break;
        }
      }
      own.set(key, (own.get(key) ?? 0n) + leg.amount);
    }
    if (refusal) {
      refused.set(settlementId, refusal);
      continue;
    }
    for (const [key, amount] of own) accepted.set(key, (accepted.get(key) ?? 0n) + amount);
  }
  return refused;
}
