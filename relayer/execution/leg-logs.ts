import { getAbiItem, parseEventLogs, type Hash, type TransactionReceipt } from 'viem';
import { vaultAbi } from '../../chains/contracts/out/Vault.js';
import type { ExecutionChain } from './execution-context.js';

const legSent = getAbiItem({ abi: vaultAbi, name: 'LegSent' });
const legReceived = getAbiItem({ abi: vaultAbi, name: 'LegReceived' });
const legRejected = getAbiItem({ abi: vaultAbi, name: 'LegRejected' });

/**
 * The source vault's `LegSent` for a leg, read from the chain: the leg id is indexed, so a
 * worker that crashed after sending finds its own transaction instead of sending again.
 */
export async function findLegSent(params: { chain: ExecutionChain; legId: Hash; fromBlock: bigint }): Promise<TransactionReceipt | undefined> {
  const { chain, legId, fromBlock } = params;
  const [log] = await chain.signer.public.getLogs({ address: chain.vault, event: legSent, args: { legId }, fromBlock, toBlock: 'latest' });
  if (!log?.transactionHash) return undefined;
  return chain.signer.public.getTransactionReceipt({ hash: log.transactionHash });
}

/** The destination vault's `LegReceived` for a leg: what it minted, in which transaction. */
export async function findLegReceived(params: { chain: ExecutionChain; legId: Hash; fromBlock: bigint }) {
  const { chain, legId, fromBlock } = params;
  const logs = await chain.signer.public.getLogs({ address: chain.vault, event: legReceived, args: { legId }, fromBlock, toBlock: 'latest' });
  return parseEventLogs({ abi: vaultAbi, eventName: 'LegReceived', logs })[0];
}

/**
 * The destination vault's `LegRejected` for a LayerZero message (by GUID): the vault consumed it
 * without effect, so it will never execute. Only the source chain is indexed; the GUID is matched here.
 */
export async function findLegRejected(params: { chain: ExecutionChain; srcChainId: number; messageRef: Hash; fromBlock: bigint }) {
  const { chain, srcChainId, messageRef, fromBlock } = params;
  const logs = await chain.signer.public.getLogs({ address: chain.vault, event: legRejected, args: { srcChainId: BigInt(srcChainId) }, fromBlock, toBlock: 'latest' });
  return parseEventLogs({ abi: vaultAbi, eventName: 'LegRejected', logs }).find((event) => event.args.messageRef.toLowerCase() === messageRef.toLowerCase());
}

/** The `LegSent` event in a source receipt (amount burned, fee paid). */
export function legSentIn(receipt: TransactionReceipt, legId: Hash) {
  return parseEventLogs({ abi: vaultAbi, eventName: 'LegSent', logs: receipt.logs }).find((event) => event.args.legId === legId);
}
