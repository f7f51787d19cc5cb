/** Reconciliation's stored vault logs and its checkpoint per vault (db/schema/vault-logs.ts). */
import { and, asc, eq, lte } from 'drizzle-orm';
import type { Address, Hash, Hex } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { reconcileCheckpoints, vaultLogs, type StoredVaultLog } from '../schema/vault-logs.js';

export interface VaultLogRecord {
  readonly blockNumber: bigint;
  readonly logIndex: number;
  readonly txHash: Hash;
  readonly topics: readonly Hex[];
  readonly data: Hex;
}

/** The last block whose logs of `vault` are stored; undefined before the first run. */
export async function reconcileCheckpoint(db: LedgerExecutor, params: { chainId: number; vault: Address }): Promise<bigint | undefined> {
  const [row] = await db.select({ blockNumber: reconcileCheckpoints.blockNumber }).from(reconcileCheckpoints).where(and(eq(reconcileCheckpoints.chainId, params.chainId), eq(reconcileCheckpoints.vault, params.vault)));
  return row?.blockNumber;
}

/** The stored logs of `vault` up to `through`, in chain order. */
export async function storedVaultLogs(db: LedgerExecutor, params: { chainId: number; vault: Address; through: bigint }): Promise<StoredVaultLog[]> {
  return db
    .select()
    .from(vaultLogs)
    .where(and(eq(vaultLogs.chainId, params.chainId), eq(vaultLogs.vault, params.vault), lte(vaultLogs.blockNumber, params.through)))
    .orderBy(asc(vaultLogs.blockNumber), asc(vaultLogs.logIndex));
}

/** Stores the logs of the blocks after the checkpoint up to `through` and moves the checkpoint there, together. */
export async function storeVaultLogs(db: LedgerExecutor, params: { chainId: number; vault: Address; through: bigint; logs: readonly VaultLogRecord[] }): Promise<void> {
  const { chainId, vault, through } = params;
  await db.transaction(async (tx) => {
    // A log already stored (two runs at once) is the same log: the chain is final that deep.
    if (params.logs.length > 0) await tx.insert(vaultLogs).values(params.logs.map((log) => ({ chainId, vault, ...log, topics: [...log.topics] }))).onConflictDoNothing();
    await tx.insert(reconcileCheckpoints).values({ chainId, vault, blockNumber: through }).onConflictDoUpdate({ target: [reconcileCheckpoints.chainId, reconcileCheckpoints.vault], set: { blockNumber: through } });
  });
}
