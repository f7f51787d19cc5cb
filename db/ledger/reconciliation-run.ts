/**
 * Recording a reconciliation run: open it, add findings and the legs it confirmed, close it.
 * Findings are never deleted; a later fix is recorded by resolving them.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import {
  reconciledLegs,
  reconciliationFindings,
  reconciliationRuns,
  type FindingKind,
  type FindingSeverity,
} from '../schema/reconciliation.js';

export async function startReconciliationRun(
  db: LedgerExecutor,
  params: { readonly node?: string; readonly scope?: Record<string, unknown> } = {},
): Promise<bigint> {
  const [run] = await db
    .insert(reconciliationRuns)
    .values({ node: params.node, scope: params.scope ?? {} })
    .returning({ id: reconciliationRuns.id });
  if (run === undefined) throw new Error('reconciliation run insert returned no row');
  return run.id;
}

export interface RecordFindingParameters {
  readonly runId: bigint;
  readonly kind: FindingKind;
  readonly severity: FindingSeverity;
  readonly chainId?: number;
  readonly legId?: Hash;
  readonly messageId?: string;
  readonly expected?: bigint;
  readonly actual?: bigint;
  readonly detail?: Record<string, unknown>;
}

export async function recordFinding(db: LedgerExecutor, params: RecordFindingParameters): Promise<bigint> {
  const [row] = await db
    .insert(reconciliationFindings)
    .values({ ...params, detail: params.detail ?? {} })
    .returning({ id: reconciliationFindings.id });
  if (row === undefined) throw new Error('finding insert returned no row');
  return row.id;
}

/** Marks legs as found consistent with the chains by this run. */
export async function markLegsReconciled(
  db: LedgerExecutor,
  params: { readonly runId: bigint; readonly legIds: readonly Hash[] },
): Promise<void> {
  if (params.legIds.length === 0) return;
  await db
    .insert(reconciledLegs)
    .values(params.legIds.map((legId) => ({ legId, runId: params.runId })))
    .onConflictDoNothing();
}

export async function finishReconciliationRun(
  db: LedgerExecutor,
  params: { readonly runId: bigint; readonly status: 'passed' | 'failed' | 'aborted'; readonly summary?: Record<string, unknown> },
): Promise<void> {
  await db
    .update(reconciliationRuns)
    .set({ status: params.status, summary: params.summary ?? {}, finishedAt: sql`now()` })
    .where(and(eq(reconciliationRuns.id, params.runId), eq(reconciliationRuns.status, 'running')));
}

/** Resolves an open finding; returns false if it was already resolved or does not exist. */
export async function resolveFinding(
  db: LedgerExecutor,
  params: { readonly findingId: bigint; readonly resolution: string },
): Promise<boolean> {
  const rows = await db
    .update(reconciliationFindings)
    .set({ resolvedAt: sql`now()`, resolution: params.resolution })
    .where(and(eq(reconciliationFindings.id, params.findingId), isNull(reconciliationFindings.resolvedAt)))
    .returning({ id: reconciliationFindings.id });
  return rows.length > 0;
}
