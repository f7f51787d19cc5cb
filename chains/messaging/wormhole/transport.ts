import { isAddressEqual, type Abi, type Address, type Hex, type TransactionReceipt } from 'viem';
import { RelayerError } from '../../../relayer/errors.js';
import type { Signer } from '../../signer.js';
import { ChainRegistry } from '../chain-registry.js';
import { quoteSubmitIdentify, type Delivery, type DeliveryStatus, type MessagingChain, type OutboundMessage, type SendRequest, type Transport } from '../transport.js';
import { wormholeCoreAbi, wormholeReceiverAbi } from './abi.js';
import { decodeMessagesPublished, vaaDigest, type WormholeMessage } from './message.js';
import type { VaaSource } from './vaa-source.js';

export interface WormholeChain extends MessagingChain {
  readonly wormhole: { readonly core: Address };
}

export interface WormholeTransportOptions {
  readonly chains: readonly WormholeChain[];
  /** The node's signer on each chain, by chain key: it submits VAAs to receivers. */
  readonly relayers: ReadonlyMap<string, Signer>;
  readonly vaaSource: VaaSource;
  /** The receiving apps' errors, so that a refused VAA reads as the app's error by name. */
  readonly receiverErrors?: Abi;
}

/**
 * Wormhole through the core bridge: the app publishes, guardians sign a VAA, and the node
 * delivers the VAA to the receiving app itself (no relayer contract). Whether a message was
 * delivered is read from the receiver, which records every VAA hash it consumed.
 */
export class WormholeTransport implements Transport {
  readonly kind = 'wormhole' as const;
  private readonly registry: ChainRegistry<WormholeChain>;
  private readonly receiverAbi: Abi;

  constructor(private readonly options: WormholeTransportOptions) {
    this.registry = new ChainRegistry('Wormhole', options.chains, options.relayers);
    this.receiverAbi = [...wormholeReceiverAbi, ...(options.receiverErrors ?? [])];
  }

  /** The core bridge takes no options: the node pays the delivery gas itself. */
  sendOptions(): Hex {
    return '0x';
  }

  async quote(request: SendRequest): Promise<bigint> {
    const source = this.registry.chain(request.source);
    return this.registry.relayer(source.key).public.readContract({ address: source.wormhole.core, abi: wormholeCoreAbi, functionName: 'messageFee' });
  }

  send(request: SendRequest & { submit: (fee: bigint) => Promise<TransactionReceipt> }): Promise<OutboundMessage> {
    return quoteSubmitIdentify(this, request);
  }

  identify(request: Omit<SendRequest, 'payload'> & { receipt: TransactionReceipt }): OutboundMessage[] {
    const source = this.registry.chain(request.source);
    const destination = this.registry.chain(request.destination);
    return decodeMessagesPublished({ core: source.wormhole.core, emitterChain: source.wormholeChainId, logs: request.receipt.logs })
      .filter((message) => isAddressEqual(`0x${message.emitter.slice(-40)}`, request.sender))
      .map((message) => ({
        id: { transport: 'wormhole', emitterChain: message.emitterChain, emitter: message.emitter, sequence: message.sequence },
        source: source.key,
        destination: destination.key,
        sender: request.sender,
        receiver: request.receiver,
        payload: message.payload,
        txHash: message.txHash,
        blockNumber: message.blockNumber,
      }));
  }

  async status(message: OutboundMessage): Promise<DeliveryStatus> {
    const published = await this.published(message);
    return (await this.consumed(message, published)) ? 'delivered' : 'sent';
  }

  async deliver(message: OutboundMessage): Promise<Delivery> {
    const published = await this.published(message);
    if (await this.consumed(message, published)) return { status: 'delivered', txHash: undefined };
    const vaa = await this.options.vaaSource.signedVaa(published);
    try {
      const receipt = await this.registry.relayer(message.destination).write({
        address: message.receiver,
        abi: this.receiverAbi,
        functionName: 'receiveWormholeMessage',
        args: [vaa],
        label: 'WormholeReceiver',
      });
      return { status: 'delivered', txHash: receipt.transactionHash };
    } catch (error) {
      // Another delivery (a re-drive, a second node) may have landed between the check and
      // our send: the VAA is then consumed, which is what was asked.
      if (await this.consumed(message, published)) return { status: 'delivered', txHash: undefined };
      throw error;
    }
  }

  /** The message as published, re-read from its source transaction, with its block time. */
  private async published(message: OutboundMessage): Promise<WormholeMessage & { timestamp: number }> {
    const id = message.id;
    if (id.transport !== 'wormhole') throw new RelayerError(`not a Wormhole message: ${id.transport}`);
    const source = this.registry.chain(message.source);
    const client = this.registry.relayer(source.key).public;
    const receipt = await client.getTransactionReceipt({ hash: message.txHash });
    const found = decodeMessagesPublished({ core: source.wormhole.core, emitterChain: source.wormholeChainId, logs: receipt.logs }).find(
      (m) => m.sequence === id.sequence && m.emitter === id.emitter,
    );
    if (!found) throw new RelayerError(`transaction ${message.txHash} on ${source.key} published no message ${id.emitterChain}/${id.emitter}/${id.sequence}`);
    const block = await client.getBlock({ blockHash: receipt.blockHash });
    return { ...found, timestamp: Number(block.timestamp) };
  }

  private consumed(message: OutboundMessage, published: WormholeMessage & { timestamp: number }): Promise<boolean> {
    return this.registry.relayer(message.destination).public.readContract({
      address: message.receiver,
      abi: wormholeReceiverAbi,
      functionName: 'wormholeVaaConsumed',
      args: [vaaDigest(published)],
    });
  }


}
