import { PacketV1Codec } from '@layerzerolabs/lz-v2-utilities';
import { getAddress, isAddressEqual, parseEventLogs, type Address, type Hash, type Hex, type Log } from 'viem';
import { endpointAbi } from './abi.js';

/** A LayerZero V2 packet as the source endpoint emitted it in `PacketSent`. */
export interface LzPacket {
  readonly encoded: Hex;
  readonly options: Hex;
  readonly nonce: bigint;
  readonly srcEid: number;
  readonly sender: Address;
  readonly dstEid: number;
  readonly receiver: Address;
  readonly guid: Hash;
  /** The OApp's message: what `lzReceive` gets. */
  readonly message: Hex;
  /** The 81-byte header the DVN verifies, and the hash of guid + message. */
  readonly header: Hex;
  readonly payloadHash: Hash;
  readonly txHash: Hash;
  readonly blockNumber: bigint;
}

/** The path a packet travels: packets on one path are delivered in nonce order. */
export interface LzPath {
  readonly srcEid: number;
  readonly sender: Address;
  readonly dstEid: number;
  readonly receiver: Address;
}

export const pathKey = (path: LzPath): string =>
  `${path.srcEid}:${path.sender.toLowerCase()}:${path.dstEid}:${path.receiver.toLowerCase()}`;

/** Decodes every `PacketSent` that `endpoint` emitted among these logs. */
export function decodePacketsSent(params: { endpoint: Address; logs: readonly Log[] }): LzPacket[] {
  const events = parseEventLogs({ abi: endpointAbi, eventName: 'PacketSent', logs: [...params.logs], strict: true });
  return events
    .filter((event) => isAddressEqual(event.address, params.endpoint))
    .map((event) => {
      const codec = PacketV1Codec.from(event.args.encodedPayload);
      if (event.transactionHash === null || event.blockNumber === null) throw new Error('PacketSent log without a transaction: pending block?');
      return {
        encoded: event.args.encodedPayload,
        options: event.args.options,
        nonce: BigInt(codec.nonce()),
        srcEid: codec.srcEid(),
        sender: getAddress(`0x${codec.sender().slice(-40)}`),
        dstEid: codec.dstEid(),
        receiver: getAddress(codec.receiverAddressB20()),
        guid: codec.guid() as Hash,
        message: codec.message() as Hex,
        header: codec.header() as Hex,
        payloadHash: codec.payloadHash() as Hash,
        txHash: event.transactionHash,
        blockNumber: event.blockNumber,
      };
    });
}
