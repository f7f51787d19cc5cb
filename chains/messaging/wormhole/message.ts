import { bytesToHex, encodePacked, hexToBytes, isAddressEqual, keccak256, pad, parseEventLogs, type Address, type Hash, type Hex, type Log } from 'viem';
import { wormholeCoreAbi } from './abi.js';

/** A message published through the core bridge: what guardians observe and sign. */
export interface WormholeMessage {
  readonly emitterChain: number;
  /** The emitting contract, left-padded to 32 bytes as in a VAA. */
  readonly emitter: Hex;
  readonly sequence: bigint;
  readonly nonce: number;
  readonly consistencyLevel: number;
  readonly payload: Hex;
  readonly txHash: Hash;
  readonly blockNumber: bigint;
}

/** Decodes every `LogMessagePublished` the core at `core` emitted among these logs. */
export function decodeMessagesPublished(params: { core: Address; emitterChain: number; logs: readonly Log[] }): WormholeMessage[] {
  return parseEventLogs({ abi: wormholeCoreAbi, eventName: 'LogMessagePublished', logs: [...params.logs], strict: true })
    .filter((event) => isAddressEqual(event.address, params.core))
    .map((event) => {
      if (event.transactionHash === null || event.blockNumber === null) throw new Error('LogMessagePublished log without a transaction: pending block?');
      return {
        emitterChain: params.emitterChain,
        // Lowercase, as Wormhole's APIs spell emitters.
        emitter: pad(event.args.sender.toLowerCase() as Address, { size: 32 }),
        sequence: event.args.sequence,
        nonce: event.args.nonce,
        consistencyLevel: event.args.consistencyLevel,
        payload: event.args.payload,
        txHash: event.transactionHash,
        blockNumber: event.blockNumber,
      };
    });
}

/**
 * The hash the core bridge returns as `vm.hash`, which apps use as the replay key: guardians
 * sign keccak(keccak(body)), and the body depends only on the message and its block time, so
 * it is known before any VAA is fetched.
 */
export function vaaDigest(message: WormholeMessage & { timestamp: number }): Hash {
  return keccak256(keccak256(vaaBody(message)));
}

/** The VAA body guardians sign for this message (everything after the signatures). */
export function vaaBody(message: WormholeMessage & { timestamp: number }): Hex {
  return encodePacked(
    ['uint32', 'uint32', 'uint16', 'bytes32', 'uint64', 'uint8', 'bytes'],
    [message.timestamp, message.nonce, message.emitterChain, message.emitter, message.sequence, message.consistencyLevel, message.payload],
  );
}

/** The body of a signed VAA: after version (1), guardian set (4), count (1) and 66 bytes a signature. */
export function signedVaaBody(signedVaa: Hex): Hex {
  const bytes = hexToBytes(signedVaa);
  const signatures = bytes[5];
  if (bytes[0] !== 1 || signatures === undefined || bytes.length < 6 + signatures * 66) throw new Error('not a version 1 VAA');
  return bytesToHex(bytes.slice(6 + signatures * 66));
}
