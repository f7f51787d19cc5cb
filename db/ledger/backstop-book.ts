/**
 * The backstop's book: each trade it made into a pool, at most once per log (a worker that
 * retries after a crash records the same log again, harmlessly), and each reading of its
 * inventory, at most once per block and market.
 */
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { backstopMarks, backstopUnwinds } from '../schema/backstop.js';

export type BackstopUnwind = typeof backstopUnwinds.$inferInsert;
export type BackstopMark = typeof backstopMarks.$inferInsert;

/** Returns whether this call recorded the trade (false: the log was already in the ledger). */
export async function recordBackstopUnwind(db: LedgerExecutor, unwind: BackstopUnwind): Promise<boolean> {
  const inserted = await db
    .insert(backstopUnwinds)
    .values({ ...unwind, txHash: unwind.txHash.toLowerCase() as Hash, marketId: unwind.marketId.toLowerCase() as Hash })
    .onConflictDoNothing()
    .returning({ txHash: backstopUnwinds.txHash });
  return inserted.length > 0;
}

export async function recordBackstopMarks(db: LedgerExecutor, marks: readonly BackstopMark[]): Promise<void> {
  if (marks.length === 0) return;
  await db
    .insert(backstopMarks)
    .values(marks.map((mark) => ({ ...mark, marketId: mark.marketId.toLowerCase() as Hash })))
    .onConflictDoNothing();
}
