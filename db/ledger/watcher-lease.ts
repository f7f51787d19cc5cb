/**
 * The fencing token of a chain's watcher lease. The lease itself lives in Redis; its epoch lives
 * here, beside what it guards: claiming raises it, and every watcher write first checks it in
 * the same transaction, holding the row until commit, so a takeover and a stale leader's write
 * are ordered by the database, never by either node's clock.
 */
import { eq, sql } from 'drizzle-orm';
import type { LedgerExecutor } from '../client.js';
import { FencedOutError } from '../errors.js';
import { watcherLeases } from '../schema/chains.js';

/** A takeover: the next epoch of the chain's lease, now the only one whose writes go through. */
export async function claimWatcherEpoch(db: LedgerExecutor, params: { chainId: number; owner: string }): Promise<bigint> {
  const [row] = await db
    .insert(watcherLeases)
    .values({ chainId: params.chainId, epoch: 1n, owner: params.owner })
    .onConflictDoUpdate({ target: watcherLeases.chainId, set: { epoch: sql`${watcherLeases.epoch} + 1`, owner: params.owner, claimedAt: sql`now()` } })
    .returning({ epoch: watcherLeases.epoch });
  if (row === undefined) throw new Error(`claiming the lease epoch of chain ${params.chainId} returned no row`);
  return row.epoch;
}

/**
 * Inside a watcher's write transaction, before anything else: locks the chain's lease row if it
 * still holds `epoch`, else throws FencedOutError (and the caller's transaction rolls back).
 */
export async function assertWatcherEpoch(tx: LedgerExecutor, params: { chainId: number; epoch: bigint }): Promise<void> {
  const [held] = await tx
    .select({ epoch: watcherLeases.epoch })
    .from(watcherLeases)
    .where(eq(watcherLeases.chainId, params.chainId))
    .for('update');
  if (held?.epoch !== params.epoch) throw new FencedOutError({ chainId: params.chainId, epoch: params.epoch, current: held?.epoch });
}

export async function currentWatcherEpoch(db: LedgerExecutor, chainId: number): Promise<bigint | undefined> {
  const [row] = await db.select({ epoch: watcherLeases.epoch }).from(watcherLeases).where(eq(watcherLeases.chainId, chainId));
  return row?.epoch;
}
