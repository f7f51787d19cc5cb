import type { Address, Hash, Hex, TransactionReceipt } from 'viem';
import { RelayerError } from '../../relayer/errors.js';

export type TransportKind = 'layerzero' | 'wormhole';
export const transportKinds: readonly TransportKind[] = ['layerzero', 'wormhole'];

/** A chain as the transports see it: its ids on each network and the contracts there. */
export interface MessagingChain {
  readonly key: string;
  readonly chainId: number;
  readonly rpcUrl: string;
  readonly lzEid: number;
  readonly wormholeChainId: number;
}

/** How a message is known on its network, independent of our ledger. */
export type MessageId =
  | { readonly transport: 'layerzero'; readonly guid: Hash; readonly srcEid: number; readonly dstEid: number; readonly nonce: bigint }
  | { readonly transport: 'wormhole'; readonly emitterChain: number; readonly emitter: Hex; readonly sequence: bigint };

/** The id as one string: the LayerZero GUID, or Wormhole's `chain/emitter/sequence`. */
export function messageIdString(id: MessageId): string {
  return id.transport === 'layerzero' ? id.guid : `${id.emitterChain}/${id.emitter.slice(2)}/${id.sequence}`;
}

/** A message that left its source chain. */
export interface OutboundMessage {
  readonly id: MessageId;
  /** Chain keys of where it was sent from and where it must be delivered. */
  readonly source: string;
  readonly destination: string;
  /** The sending app on the source and the receiving app on the destination. */
  readonly sender: Address;
  readonly receiver: Address;
  /** The app's payload, byte for byte as the receiver will see it. */
  readonly payload: Hex;
  readonly txHash: Hash;
  readonly blockNumber: bigint;
}

export type DeliveryStatus = 'sent' | 'verified' | 'delivered';

export interface Delivery {
  readonly status: 'delivered';
  /** The transaction that delivered it, or undefined when it was already delivered before. */
  readonly txHash: Hash | undefined;
}

export interface SendRequest {
  readonly source: string;
  readonly destination: string;
  /** The app that sends (the fee is quoted for it) and the app that receives. */
  readonly sender: Address;
  readonly receiver: Address;
  readonly payload: Hex;
  /** Gas the receiver needs to process the message (default: the transport's configured gas). */
  readonly receiveGas?: bigint;
}

/**
 * One cross-chain messaging network. The sending itself is a call on the app (it pays the
 * fee and emits the message), so `send` takes that call as `submit` and does the rest: quote,
 * then find the message in the receipt. Delivery is idempotent: asking twice is safe.
 */
export interface Transport {
  readonly kind: TransportKind;
  /**
   * The transport-specific bytes the sending app passes along with the message: LayerZero's
   * executor options (paying for `receiveGas` on the destination), nothing for Wormhole.
   */
  sendOptions(receiveGas?: bigint): Hex;
  /** The native fee the sender must attach, as the network quotes it on chain. */
  quote(request: SendRequest): Promise<bigint>;
  /** Quotes, runs `submit` with the fee, and identifies the message it sent. */
  send(request: SendRequest & { submit: (fee: bigint) => Promise<TransactionReceipt> }): Promise<OutboundMessage>;
  /** The messages this transport sent in a source-chain receipt. */
  identify(request: Omit<SendRequest, 'payload'> & { receipt: TransactionReceipt }): OutboundMessage[];
  /** Brings the message to its receiver (verifies and executes it on the devnet). */
  deliver(message: OutboundMessage): Promise<Delivery>;
  /** Where the message is now, read from the destination chain. */
  status(message: OutboundMessage): Promise<DeliveryStatus>;
}

/**
 * What every transport's `send` does: quote, let the app send with that fee, and find exactly
 * the one message with this payload in the receipt.
 */
export async function quoteSubmitIdentify(
  transport: Transport,
  request: SendRequest & { submit: (fee: bigint) => Promise<TransactionReceipt> },
): Promise<OutboundMessage> {
  const fee = await transport.quote(request);
  const receipt = await request.submit(fee);
  const sent = transport.identify({ ...request, receipt }).filter((message) => message.payload === request.payload);
  const [message] = sent;
  if (sent.length !== 1 || !message) {
    throw new RelayerError(`expected one ${transport.kind} message in ${receipt.transactionHash}, found ${sent.length}`);
  }
  return message;
}
