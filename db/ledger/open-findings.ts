/**
 * Findings still open from earlier reconciliation runs, and resolving those a later run
 * disproved (reconciliation looked again and no longer found them). Findings are never
 * deleted: a resolution records when, and which run, closed one.
 */
import { and, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { LedgerExecutor } from '../client.js';
import { reconciliationFindings, type ReconciliationFinding } from '../schema/reconciliation.js';

/** Every unresolved finding recorded by a run before `runId`. */
export async function openFindingsBefore(db: LedgerExecutor, params: { readonly runId: bigint }): Promise<ReconciliationFinding[]> {
  return db
    .select()
    .from(reconciliationFindings)
    .where(and(isNull(reconciliationFindings.resolvedAt), lt(reconciliationFindings.runId, params.runId)));
}

/** Resolves the findings named that are still open; returns how many it resolved. */
export async function resolveFindings(db: LedgerExecutor, params: { readonly findingIds: readonly bigint[]; readonly resolution: string }): Promise<number> {
  if (params.findingIds.length === 0) return 0;
  const rows = await db
    .update(reconciliationFindings)
    .set({ resolvedAt: sql`now()`, resolution: params.resolution })
    .where(and(inArray(reconciliationFindings.id, [...params.findingIds]), isNull(reconciliationFindings.resolvedAt)))
    .returning({ id: reconciliationFindings.id });
  return rows.length;
}
