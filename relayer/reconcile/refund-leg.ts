import { parseEventLogs } from 'viem';
import { vaultAbi } from '../../chains/contracts/out/Vault.js';
import { cancelLeg } from '../../chains/protocol/legs.js';
import type { Leg } from '../../db/index.js';
import { RelayerError } from '../errors.js';
import { advanceLeg } from '../execution/advance-leg.js';
import { chainOf, type ExecutionContext } from '../execution/execution-context.js';

/**
 * Refunds a leg whose deadline passed before it arrived: the destination vault cancels it (it
 * can then never execute there) and sends a refund back; delivered to the source, the vault
 * mints the amount back, once. The ledger records the leg failed (from where it was: the
 * amount was burned, so a refund is owed) and then refunded, with the refund's transaction.
 */
export async function refundExpiredLeg(params: { context: ExecutionContext; leg: Leg }): Promise<void> {
  const { context, leg } = params;
  if (leg.transport === null) return;
  const source = chainOf(context, leg.sourceChainId);
  const destination = chainOf(context, leg.destinationChainId);
  const transport = context.transports[leg.transport];
  const refund = await cancelLeg({
    signer: destination.signer,
    transport,
    from: { key: destination.key, chainId: destination.chainId, contracts: { vault: destination.vault } },
    to: { key: source.key, chainId: source.chainId, contracts: { vault: source.vault } },
    legId: leg.id,
  });
  const delivered = await transport.deliver(refund);
  const receipt = delivered.txHash ? await source.signer.public.getTransactionReceipt({ hash: delivered.txHash }) : undefined;
  const event = receipt ? parseEventLogs({ abi: vaultAbi, eventName: 'LegRefunded', logs: receipt.logs }).find((e) => e.args.legId === leg.id) : undefined;
  if (!receipt || !event) throw new RelayerError(`refund of leg ${leg.id} was delivered without a LegRefunded on chain ${source.chainId}`, { retryable: true });
  if (leg.status !== 'failed') await advanceLeg(context, { legId: leg.id, from: leg.status, to: 'failed', error: 'deadline passed before delivery' });
  await advanceLeg(context, {
    legId: leg.id,
    from: 'failed',
    to: 'refunded',
    evidence: { chainId: source.chainId, txHash: receipt.transactionHash, blockNumber: receipt.blockNumber, amount: event.args.amount },
  });
}
