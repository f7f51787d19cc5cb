/**
 * Where each shortfall stands for planning, read in one query for a batch of plan jobs: whether
 * its episode is still open, and the first settlement already recorded for it (a plan job retried
 * after recording its plan must finish what it started, not plan again).
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { legs } from '../schema/legs.js';
import { settlements } from '../schema/settlements.js';
import { shortfalls } from '../schema/shortfalls.js';

export interface PlanState {
  readonly open: boolean;
  readonly settlement?: { readonly settlementId: Hash; readonly legIds: readonly Hash[] };
}

/** Shortfalls the ledger does not have are absent from the map. */
export async function planStates(db: LedgerExecutor, ids: readonly Hash[]): Promise<Map<Hash, PlanState>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: shortfalls.id, status: shortfalls.status, settlementId: settlements.id })
    .from(shortfalls)
    .leftJoin(settlements, and(eq(settlements.shortfallId, shortfalls.id), eq(settlements.revision, 0)))
    .where(inArray(shortfalls.id, [...ids]));
  const settlementIds = rows.flatMap((row) => (row.settlementId ? [row.settlementId] : []));
  const legRows =
    settlementIds.length === 0
      ? []
      : await db.select({ id: legs.id, settlementId: legs.settlementId }).from(legs).where(inArray(legs.settlementId, settlementIds)).orderBy(asc(legs.legIndex));
  return new Map(
    rows.map((row) => [
      row.id,
      {
        open: row.status === 'open',
        ...(row.settlementId ? { settlement: { settlementId: row.settlementId, legIds: legRows.filter((leg) => leg.settlementId === row.settlementId).map((leg) => leg.id) } } : {}),
      },
    ]),
  );
}
