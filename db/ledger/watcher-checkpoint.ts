/**
 * Where a chain's watcher has got to. Saving is a plain upsert: the watcher holds the chain's
 * lease (its writes are fenced by the lease epoch, watcher-lease.ts), and after a reorg it must
 * be able to move the checkpoint back.
 */
import { eq, sql } from 'drizzle-orm';
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { watcherCheckpoints, type WatcherCheckpoint } from '../schema/chains.js';

export interface SaveCheckpointParameters {
  readonly chainId: number;
  readonly blockNumber: bigint;
  readonly blockHash: Hash;
  /** The lease epoch of the writer, kept with the checkpoint for the record. */
  readonly epoch?: bigint;
}

export async function saveCheckpoint(
  db: LedgerExecutor,
  params: SaveCheckpointParameters,
): Promise<void> {
  await db
    .insert(watcherCheckpoints)
    .values(params)
    .onConflictDoUpdate({
      target: watcherCheckpoints.chainId,
      set: { blockNumber: params.blockNumber, blockHash: params.blockHash, epoch: params.epoch ?? null, updatedAt: sql`now()` },
    });
}

export async function getCheckpoint(
  db: LedgerExecutor,
  chainId: number,
): Promise<WatcherCheckpoint | undefined> {
  const [row] = await db.select().from(watcherCheckpoints).where(eq(watcherCheckpoints.chainId, chainId));
  return row;
}
