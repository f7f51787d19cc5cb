/**
 * The closed loop's last "nothing to do" for an open episode, kept on the shortfall (detail
 * `lastDecision`): an operator or the main job can tell an account nobody is acting on because
 * no source can cover it from one still being worked on.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { shortfalls } from '../schema/shortfalls.js';

export interface DecisionRecord {
  readonly shortfallId: Hash;
  readonly reason: string;
  /** Base units no source could cover. */
  readonly uncovered: bigint;
  readonly at: Date;
}

export async function recordDecision(db: LedgerExecutor, decision: DecisionRecord): Promise<void> {
  const detail = { lastDecision: { kind: 'none', reason: decision.reason, uncovered: decision.uncovered.toString(), at: decision.at.toISOString() } };
  await db
    .update(shortfalls)
    .set({ detail: sql`${shortfalls.detail} || ${JSON.stringify(detail)}::jsonb` })
    .where(and(eq(shortfalls.id, decision.shortfallId), eq(shortfalls.status, 'open')));
}
