import type { Hex, Log } from 'viem';
import { reconcileCheckpoint, storedVaultLogs, storeVaultLogs, type LedgerDatabase } from '../../db/index.js';
import type { ExecutionChain } from '../execution/execution-context.js';

/** A log as the chain gave it, or as stored (without the block hash and transaction index it does not keep). */
export type VaultLog = Log<bigint, number, boolean>;

/**
 * A vault's logs up to `head`, reading the chain only after reconciliation's checkpoint: the
 * logs at least `confirmations` deep are stored and the checkpoint moved to that depth (a reorg
 * cannot reach them), the shallower ones are read again by the next run. Every stored log is
 * returned with the fresh ones, so a leg sent long ago still meets the credit that comes now.
 */
export async function vaultLogsThrough(params: { ledger: LedgerDatabase; chain: ExecutionChain; head: bigint; confirmations: bigint }): Promise<VaultLog[]> {
  const { ledger, chain, head } = params;
  const key = { chainId: chain.chainId, vault: chain.vault };
  const checkpoint = await reconcileCheckpoint(ledger, key);
  const from = checkpoint === undefined ? 0n : checkpoint + 1n;
  const stored = checkpoint === undefined ? [] : await storedVaultLogs(ledger, { ...key, through: checkpoint });
  const fresh = from <= head ? await chain.signer.public.getLogs({ address: chain.vault, fromBlock: from, toBlock: head }) : [];
  const final = head - params.confirmations;
  if (final >= from) {
    const deep = fresh.filter((log) => log.blockNumber <= final);
    await storeVaultLogs(ledger, { ...key, through: final, logs: deep.map((log) => ({ blockNumber: log.blockNumber, logIndex: log.logIndex, txHash: log.transactionHash, topics: log.topics, data: log.data })) });
  }
  const kept = stored.map((row): VaultLog => ({ address: row.vault, topics: row.topics as [Hex, ...Hex[]], data: row.data as Hex, blockNumber: row.blockNumber, transactionHash: row.txHash, logIndex: row.logIndex, blockHash: null, transactionIndex: null, removed: false }));
  return [...kept, ...fresh];
}
