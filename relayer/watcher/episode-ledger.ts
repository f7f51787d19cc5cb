/**
 * The watcher's writes to the ledger: shortfall episodes opened and closed, and the checkpoint,
 * committed together so the ledger's episodes always describe the state at its checkpoint.
 * Written here with drizzle against db/'s tables where db/ has no fitting function: opening many
 * episodes in one statement, closing one with the cause recorded, clearing the checkpoint.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import { assertWatcherEpoch, getCheckpoint, recordAssessments, saveCheckpoint, type AssessmentRecord, shortfallIdOf, shortfalls, watcherCheckpoints, type LedgerExecutor, type RecordShortfallParameters } from '../../db/index.js';
import type { Checkpoint } from '../../chains/watch/block-follower.js';
import type { Episode } from './episode-book.js';

/** Why an episode closed: the account recovered, or the block that opened it left the chain. */
export type CloseCause = 'recovered' | 'reorg';

export interface EpisodeCloseRecord {
  readonly shortfallId: Hash;
  readonly closedAt: Date;
  readonly badDebt: bigint;
  readonly cause: CloseCause;
  /** The checkpoint block the close was decided at. */
  readonly block: bigint;
}

/** Each account's latest episode on this engine. */
export async function loadEpisodes(db: LedgerExecutor, params: { chainId: number; engine: Address }): Promise<Map<Address, Episode>> {
  const rows = await db
    .selectDistinctOn([shortfalls.account], {
      account: shortfalls.account,
      episode: shortfalls.episode,
      status: shortfalls.status,
      detectedBlock: shortfalls.detectedBlock,
      detail: shortfalls.detail,
    })
    .from(shortfalls)
    .where(and(eq(shortfalls.chainId, params.chainId), eq(shortfalls.engine, params.engine)))
    .orderBy(shortfalls.account, desc(shortfalls.episode));
  return new Map(
    rows.map((row) => {
      const covered = row.detail['badDebtCoveredBefore'];
      const coveredBefore = typeof covered === 'string' && /^\d+$/.test(covered) ? BigInt(covered) : 0n;
      return [row.account, { episode: row.episode, open: row.status === 'open', detectedBlock: row.detectedBlock, coveredBefore }];
    }),
  );
}

export async function loadCheckpoint(db: LedgerExecutor, chainId: number): Promise<Checkpoint | undefined> {
  const row = await getCheckpoint(db, chainId);
  return row === undefined ? undefined : { number: row.blockNumber, hash: row.blockHash };
}

/**
 * Opens, closes, reassessments and the checkpoint in one transaction: all of them, or none;
 * none, with FencedOutError, unless the chain's lease epoch in the ledger is still `epoch`.
 */
export async function commitWatcherStep(
  db: LedgerExecutor,
  params: { chainId: number; epoch: bigint; opens: readonly RecordShortfallParameters[]; closes: readonly EpisodeCloseRecord[]; assessments?: readonly AssessmentRecord[]; checkpoint: Checkpoint | undefined },
): Promise<void> {
  await db.transaction(async (tx) => {
    await assertWatcherEpoch(tx, { chainId: params.chainId, epoch: params.epoch });
    // One statement for every episode a block opens (many accounts breach on one price move);
    // an episode already recorded (a replay, a second node) stays as first recorded, as in recordShortfall.
    if (params.opens.length > 0) {
      await tx
        .insert(shortfalls)
        .values(params.opens.map((open) => ({ id: shortfallIdOf(open), ...open, detail: open.detail ?? {} })))
        .onConflictDoNothing({ target: shortfalls.id });
    }
    for (const close of params.closes) {
      await tx
        .update(shortfalls)
        .set({
          status: 'closed',
          closedAt: close.closedAt,
          badDebt: close.badDebt,
          detail: sql`${shortfalls.detail} || ${JSON.stringify({ closedBy: close.cause, closedAtBlock: close.block.toString() })}::jsonb`,
        })
        .where(and(eq(shortfalls.id, close.shortfallId), eq(shortfalls.status, 'open')));
    }
    // Open episodes whose account moved: the closed loop decides from this, not from the first report.
    if (params.assessments && params.assessments.length > 0) await recordAssessments(tx, params.assessments);
    if (params.checkpoint === undefined) {
      // A reorg below the first block: nothing is applied any more.
      await tx.delete(watcherCheckpoints).where(eq(watcherCheckpoints.chainId, params.chainId));
    } else {
      await saveCheckpoint(tx, { chainId: params.chainId, blockNumber: params.checkpoint.number, blockHash: params.checkpoint.hash, epoch: params.epoch });
    }
  });
}
