import type { Hash } from 'viem';
import { getLeg, listLegEvents, recordLegAttempt, type Leg } from '../../db/index.js';
import { legPayload } from '../../chains/protocol/legs.js';
import { rejectionReason } from '../../chains/protocol/rejection.js';
import type { OutboundMessage } from '../../chains/messaging/transport.js';
import { isRevert, revertError, shortReason } from '../../chains/signer.js';
import { RelayerError } from '../errors.js';
import { advanceLeg } from './advance-leg.js';
import { refusalFailsLeg, refusedDeliveryError } from './delivery-refusal.js';
import { chainOf, type ExecutionContext } from './execution-context.js';
import { findLegReceived, findLegRejected } from './leg-logs.js';
import { vaultLegOf } from './send-leg.js';

/** The leg's message, identified again from its source transaction (the chain is the record). */
async function messageOf(context: ExecutionContext, leg: Leg): Promise<OutboundMessage> {
  if (leg.transport === null || !leg.sourceTxHash) throw new RelayerError(`leg ${leg.id} has no source transaction to deliver`);
  const source = chainOf(context, leg.sourceChainId);
  const destination = chainOf(context, leg.destinationChainId);
  const receipt = await source.signer.public.getTransactionReceipt({ hash: leg.sourceTxHash });
  const payload = legPayload(vaultLegOf(leg));
  const [message] = context.transports[leg.transport]
    .identify({ source: source.key, destination: destination.key, sender: source.vault, receiver: destination.vault, receipt })
    .filter((m) => m.payload === payload);
  if (!message) throw new RelayerError(`transaction ${leg.sourceTxHash} carries no message for leg ${leg.id}`);
  return message;
}

/**
 * Brings a sent leg's message to the destination vault and records each step:
 * `verified`, `delivered` (the delivery transaction) and `credited` (what the vault minted,
 * read from its `LegReceived`). Delivery is idempotent, so a retry after a crash re-reads
 * where the message is and records only what is missing. A destination that refuses the leg
 * (expired, say; over LayerZero it consumes the message with `LegRejected`) fails it: the
 * amount was burned, so reconciliation refunds it. One that refuses only the delivered
 * message (a forged VAA) leaves the leg as it is, records the attempt and retries.
 */
export async function deliverLegStep(context: ExecutionContext, legId: Hash): Promise<void> {
  const leg = await getLeg(context.ledger, legId);
  if (!leg) throw new RelayerError(`leg ${legId} is not in the ledger`);
  if (leg.status === 'credited' || leg.status === 'failed' || leg.status === 'refunded') return;
  if (leg.status === 'planned' || leg.status === 'submitted') throw new RelayerError(`leg ${legId} is ${leg.status}: not sent yet`, { retryable: true });
  if (leg.transport === null) return;
  const destination = chainOf(context, leg.destinationChainId);
  const message = await messageOf(context, leg);
  let deliveryTx: Hash | undefined;
  let refusal: unknown;
  try {
    deliveryTx = (await context.transports[leg.transport].deliver(message)).txHash;
  } catch (error) {
    if (!isRevert(error)) throw new RelayerError(`delivering leg ${legId} to chain ${destination.chainId} failed: ${shortReason(error)}`, { cause: error, retryable: true });
    // Judged below: another worker may have delivered the leg meanwhile, and then it is credited, not refused.
    refusal = error;
  }
  const received = await findLegReceived({ chain: destination, legId, fromBlock: 0n });
  if (!received) {
    if (refusal !== undefined) await refused(context, leg, refusal);
    await failIfRejected(context, leg, message);
    throw new RelayerError(`leg ${legId} delivered but no LegReceived on chain ${destination.chainId} yet`, { retryable: true });
  }
  const block = await destination.signer.public.getBlock({ blockHash: received.blockHash });
  const onDestination = {
    chainId: destination.chainId,
    txHash: deliveryTx ?? received.transactionHash,
    blockNumber: received.blockNumber,
    blockHash: received.blockHash,
    occurredAt: new Date(Number(block.timestamp) * 1000),
  };
  if (leg.status === 'sent') await advanceLeg(context, { legId, from: 'sent', to: 'verified', evidence: { chainId: destination.chainId, detail: { transport: leg.transport } } });
  if (leg.status === 'sent' || leg.status === 'verified') await advanceLeg(context, { legId, from: 'verified', to: 'delivered', evidence: onDestination });
  await advanceLeg(context, {
    legId,
    from: 'delivered',
    to: 'credited',
    evidence: { ...onDestination, txHash: received.transactionHash, amount: received.args.amount, detail: { absorbedSize: received.args.absorbedSize.toString() } },
  });
  const sentAt = (await listLegEvents(context.ledger, legId)).find((event) => event.toStatus === 'sent')?.occurredAt;
  if (sentAt) context.onCredited?.({ transport: leg.transport, seconds: (onDestination.occurredAt.getTime() - sentAt.getTime()) / 1000 });
}

/** The destination reverted the delivery: the leg fails, or only this attempt did (recorded, retried). */
async function refused(context: ExecutionContext, leg: Leg, error: unknown): Promise<never> {
  const reason = shortReason(error);
  if (refusalFailsLeg(leg.id, revertError(error))) {
    await advanceLeg(context, { legId: leg.id, from: leg.status, to: 'failed', error: refusedDeliveryError(reason) });
    throw new RelayerError(`leg ${leg.id} refused by the destination vault: ${reason}`);
  }
  await recordLegAttempt(context.ledger, { legId: leg.id, status: leg.status, error: refusedDeliveryError(reason) });
  throw new RelayerError(`leg ${leg.id}: the destination refused the delivered message, not the leg: ${reason}`, { retryable: true, cause: error });
}

/** A LayerZero message the destination consumed with `LegRejected` never executes: the leg fails with the vault's reason. */
async function failIfRejected(context: ExecutionContext, leg: Leg, message: OutboundMessage): Promise<void> {
  if (message.id.transport !== 'layerzero') return;
  const destination = chainOf(context, leg.destinationChainId);
  const rejected = await findLegRejected({ chain: destination, srcChainId: leg.sourceChainId, messageRef: message.id.guid, fromBlock: 0n });
  if (!rejected) return;
  const reason = rejectionReason(rejected.args.reason);
  await advanceLeg(context, {
    legId: leg.id,
    from: leg.status,
    to: 'failed',
    error: refusedDeliveryError(reason),
    evidence: { chainId: destination.chainId, txHash: rejected.transactionHash, blockNumber: rejected.blockNumber, blockHash: rejected.blockHash },
  });
  throw new RelayerError(`leg ${leg.id} rejected by the destination vault: ${reason}`);
}
