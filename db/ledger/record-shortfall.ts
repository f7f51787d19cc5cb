/**
 * Records a shortfall report. Its id is derived from (chain, engine, account, episode), so the
 * same episode reported twice (by a restarted watcher, or two nodes) is one row; the first
 * report's numbers stand.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { LedgerError } from '../errors.js';
import { shortfallIdOf } from '../ids.js';
import { bulkInsert, columnValues, hexValue, inIdOrder, instantValue, integerValue, jsonValue } from './bulk-insert.js';
import { shortfalls, type Shortfall, type ShortfallReason } from '../schema/shortfalls.js';

export interface RecordShortfallParameters {
  readonly chainId: number;
  readonly engine: Address;
  readonly account: Address;
  readonly episode: bigint;
  readonly reason: ShortfallReason;
  readonly equity: bigint;
  readonly maintenance: bigint;
  readonly requiredAmount: bigint;
  readonly detectedBlock: bigint;
  readonly detectedAt: Date;
  readonly detail?: Record<string, unknown>;
}

export interface RecordShortfallReturnType {
  readonly shortfall: Shortfall;
  /** False when the episode was already recorded. */
  readonly created: boolean;
}

export async function recordShortfall(
  db: LedgerExecutor,
  params: RecordShortfallParameters,
): Promise<RecordShortfallReturnType> {
  const id: Hash = shortfallIdOf(params);
  const [inserted] = await db
    .insert(shortfalls)
    .values({ id, ...params, detail: params.detail ?? {} })
    .onConflictDoNothing({ target: shortfalls.id })
    .returning();
  if (inserted !== undefined) return { shortfall: inserted, created: true };
  const [existing] = await db.select().from(shortfalls).where(eq(shortfalls.id, id));
  if (existing === undefined) throw new LedgerError(`shortfall ${id} neither inserted nor found`);
  return { shortfall: existing, created: false };
}

/**
 * Records many reports in one statement (the orchestrator's intake under load); returns, per
 * report in order, its id and whether this call created it.
 */
export async function recordShortfalls(
  db: LedgerExecutor,
  params: readonly RecordShortfallParameters[],
): Promise<{ readonly id: Hash; readonly created: boolean }[]> {
  if (params.length === 0) return [];
  const entries = params.map((report) => ({ id: shortfallIdOf(report), report }));
  const rows = inIdOrder(entries);
  const inserted = await db.execute<{ id: Hash }>(sql`${bulkInsert(shortfalls, [
    columnValues(shortfalls.id, 'text', rows.map((r) => r.id)),
    columnValues(shortfalls.chainId, 'bigint', rows.map(({ report: r }) => r.chainId)),
    columnValues(shortfalls.engine, 'text', rows.map(({ report: r }) => hexValue(r.engine))),
    columnValues(shortfalls.account, 'text', rows.map(({ report: r }) => hexValue(r.account))),
    columnValues(shortfalls.episode, 'bigint', rows.map(({ report: r }) => integerValue(r.episode))),
    columnValues(shortfalls.reason, 'shortfall_reason', rows.map(({ report: r }) => r.reason)),
    columnValues(shortfalls.equity, 'numeric', rows.map(({ report: r }) => integerValue(r.equity))),
    columnValues(shortfalls.maintenance, 'numeric', rows.map(({ report: r }) => integerValue(r.maintenance))),
    columnValues(shortfalls.requiredAmount, 'numeric', rows.map(({ report: r }) => integerValue(r.requiredAmount))),
    columnValues(shortfalls.detectedBlock, 'bigint', rows.map(({ report: r }) => integerValue(r.detectedBlock))),
    columnValues(shortfalls.detectedAt, 'timestamptz', rows.map(({ report: r }) => instantValue(r.detectedAt))),
    columnValues(shortfalls.detail, 'jsonb', rows.map(({ report: r }) => jsonValue(r.detail ?? {}))),
  ])} on conflict (id) do nothing returning id`);
  const created = new Set(inserted.rows.map((row) => row.id));
  // The same episode twice in one batch: only its first report creates the row.
  return entries.map(({ id }) => ({ id, created: created.delete(id) }));
}

export interface CloseShortfallParameters {
  readonly shortfallId: Hash;
  readonly closedAt: Date;
  /** The loss the protocol took, read from the chain; 0n when the episode ended healthy. */
  readonly badDebt: bigint;
}

/** Closes an open shortfall; returns false if it was not open (already closed, or unknown). */
export async function closeShortfall(
  db: LedgerExecutor,
  params: CloseShortfallParameters,
): Promise<boolean> {
  const closed = await db
    .update(shortfalls)
    .set({ status: 'closed', closedAt: params.closedAt, badDebt: params.badDebt })
    .where(and(eq(shortfalls.id, params.shortfallId), eq(shortfalls.status, 'open')))
    .returning({ id: shortfalls.id });
  return closed.length > 0;
}
