import type { Hash, Hex, TransactionReceipt } from 'viem';
import { getLeg, listLegEvents, recordMessage, type Leg } from '../../db/index.js';
import { legPayload, sendLeg, type Leg as VaultLeg } from '../../chains/protocol/legs.js';
import { isRevert, shortReason } from '../../chains/signer.js';
import { RelayerError } from '../errors.js';
import { messageRefOf } from './message-ref.js';
import { advanceLeg } from './advance-leg.js';
import { executeAuctionLeg } from './auction-leg.js';
import { executeLocalLeg } from './local-leg.js';
import { chainOf, type ExecutionContext, type ExecutionChain } from './execution-context.js';
import { findLegSent, legSentIn } from './leg-logs.js';

/** The leg as the vault sends it: the same fields every time, so the payload never changes. */
export function vaultLegOf(leg: Leg): VaultLeg {
  const deadline = BigInt(Math.floor((leg.deadline ?? new Date(0)).getTime() / 1000));
  if (leg.kind === 'liquidity') {
    return { kind: 'liquidity', legId: leg.id, account: leg.account, amount: leg.amount, market: (leg.marketId ?? '0x') as Hex, size: leg.positionSize, deadline };
  }
  return { kind: 'collateral', legId: leg.id, account: leg.account, amount: leg.amount, deadline };
}

/** Where to start looking for the leg's own transaction: the head when it was submitted. */
async function submittedAt(context: ExecutionContext, legId: Hash): Promise<bigint> {
  const events = await listLegEvents(context.ledger, legId);
  return events.find((event) => event.toStatus === 'submitted')?.blockNumber ?? 0n;
}

/**
 * Sends a leg from its source vault, recording `submitted` before the transaction and `sent`
 * after it. A leg already `submitted` (a worker died after recording it) is looked up on chain
 * first: the vault logs the leg id, and refuses a second send of it anyway, so a retry never
 * burns twice. A revert is final (the leg is marked failed and the job ends) unless the leg is on
 * chain after all: a concurrent run sent it first.
 */
export async function sendLegStep(context: ExecutionContext, legId: Hash): Promise<void> {
  const leg = await getLeg(context.ledger, legId);
  if (!leg) throw new RelayerError(`leg ${legId} is not in the ledger`);
  if (leg.status !== 'planned' && leg.status !== 'submitted') return;
  if (leg.kind === 'auction') return executeAuctionLeg(context, leg);
  if (leg.kind === 'local' || leg.transport === null) return executeLocalLeg(context, leg);
  const source = chainOf(context, leg.sourceChainId);
  const destination = chainOf(context, leg.destinationChainId);
  const transport = context.transports[leg.transport];

  if (leg.status === 'planned') {
    const head = await source.signer.public.getBlockNumber({ cacheTime: 0 });
    await advanceLeg(context, { legId, from: 'planned', to: 'submitted', evidence: { chainId: source.chainId, blockNumber: head } });
  }
  let receipt = await findLegSent({ chain: source, legId, fromBlock: await submittedAt(context, legId) });
  if (!receipt) {
    try {
      const message = await sendLeg({
        signer: source.signer,
        transport,
        from: vaultChain(source),
        to: vaultChain(destination),
        leg: vaultLegOf(leg),
        ...(context.receiveGas === undefined ? {} : { receiveGas: context.receiveGas }),
      });
      receipt = await source.signer.public.getTransactionReceipt({ hash: message.txHash });
    } catch (error) {
      if (!isRevert(error)) throw new RelayerError(`sending leg ${legId} from chain ${source.chainId} failed: ${shortReason(error)}`, { cause: error, retryable: true });
      // Another run of this job (a stalled lock, a second node) may have sent it meanwhile: the
      // vault then refuses this send, and the leg is sent, not failed.
      receipt = await findLegSent({ chain: source, legId, fromBlock: await submittedAt(context, legId) });
      if (!receipt) {
        // The head it failed at: reconciliation confirms that nothing was sent once the chain is final past it.
        const head = await source.signer.public.getBlockNumber({ cacheTime: 0 });
        await advanceLeg(context, { legId, from: 'submitted', to: 'failed', error: shortReason(error), evidence: { chainId: source.chainId, blockNumber: head } });
        throw new RelayerError(`leg ${legId} refused by the source vault: ${shortReason(error)}`);
      }
      // Sent by the other run: not mined by this one.
      return recordSent(context, { leg, source, destination, receipt });
    }
    await context.onSourceMined?.({ legId, txHash: receipt.transactionHash });
  }
  await recordSent(context, { leg, source, destination, receipt });
}

const vaultChain = (chain: ExecutionChain) => ({ key: chain.key, chainId: chain.chainId, contracts: { vault: chain.vault } });

async function recordSent(context: ExecutionContext, params: { leg: Leg; source: ExecutionChain; destination: ExecutionChain; receipt: TransactionReceipt }): Promise<void> {
  const { leg, source, destination, receipt } = params;
  if (leg.transport === null) return;
  const transport = context.transports[leg.transport];
  const payload = legPayload(vaultLegOf(leg));
  const [message] = transport
    .identify({ source: source.key, destination: destination.key, sender: source.vault, receiver: destination.vault, receipt })
    .filter((m) => m.payload === payload);
  const sent = legSentIn(receipt, leg.id);
  if (!message || !sent) throw new RelayerError(`transaction ${receipt.transactionHash} carries no message for leg ${leg.id}`);
  const ref = messageRefOf(message.id);
  const block = await source.signer.public.getBlock({ blockHash: receipt.blockHash });
  await advanceLeg(context, {
    legId: leg.id,
    from: 'submitted',
    to: 'sent',
    evidence: {
      chainId: source.chainId,
      txHash: receipt.transactionHash,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      message: ref,
      amount: sent.args.amount,
      fee: sent.args.fee + receipt.gasUsed * receipt.effectiveGasPrice,
      occurredAt: new Date(Number(block.timestamp) * 1000),
    },
  });
  await recordMessage(context.ledger, {
    ref,
    sourceChainId: source.chainId,
    destinationChainId: destination.chainId,
    legId: leg.id,
    ...(message.id.transport === 'layerzero' ? { lzNonce: message.id.nonce } : {}),
    amount: sent.args.amount,
    payload,
    sourceTxHash: receipt.transactionHash,
    sourceBlock: receipt.blockNumber,
  });
}
