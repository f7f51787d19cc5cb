/**
 * One string id per cross-chain message, whatever the transport: a LayerZero packet is named
 * by its GUID; a Wormhole message by `emitterChain/emitter/sequence` (the VAA id used by
 * the guardians' API and wormholescan: emitter as 64 hex digits without 0x).
 */
import { isHex, type Hash, type Hex } from 'viem';

export type MessageRef =
  | { readonly transport: 'layerzero'; readonly guid: Hash }
  | {
      readonly transport: 'wormhole';
      readonly emitterChain: number;
      /** The emitter as a 32-byte universal address. */
      readonly emitter: Hex;
      readonly sequence: bigint;
    };

const BYTES32 = /^0x[0-9a-f]{64}$/;
const UINT64_MAX = 2n ** 64n - 1n;

export function messageIdOf(ref: MessageRef): string {
  if (ref.transport === 'layerzero') {
    const guid = ref.guid.toLowerCase();
    if (!BYTES32.test(guid)) throw new TypeError(`a LayerZero GUID is 32 bytes, got ${ref.guid}`);
    return guid;
  }
  const emitter = ref.emitter.toLowerCase();
  if (!BYTES32.test(emitter)) throw new TypeError(`a Wormhole emitter is a 32-byte address, got ${ref.emitter}`);
  if (!Number.isInteger(ref.emitterChain) || ref.emitterChain <= 0 || ref.emitterChain > 0xffff) {
    throw new TypeError(`a Wormhole chain id is a uint16 above 0, got ${ref.emitterChain}`);
  }
  if (ref.sequence < 0n || ref.sequence > UINT64_MAX) throw new TypeError(`a Wormhole sequence is a uint64, got ${ref.sequence}`);
  return `${ref.emitterChain}/${emitter.slice(2)}/${ref.sequence}`;
}

export function parseMessageId(id: string): MessageRef {
  if (BYTES32.test(id)) return { transport: 'layerzero', guid: id as Hash };
  const match = /^(\d{1,5})\/([0-9a-f]{64})\/(\d{1,20})$/.exec(id);
  const [, chain, emitter, sequence] = match ?? [];
  if (chain === undefined || emitter === undefined || sequence === undefined || !isHex(`0x${emitter}`)) {
    throw new TypeError(`not a message id (LayerZero GUID or Wormhole chain/emitter/sequence): ${id}`);
  }
  const ref: MessageRef = {
    transport: 'wormhole',
    emitterChain: Number(chain),
    emitter: `0x${emitter}`,
    sequence: BigInt(sequence),
  };
  messageIdOf(ref); // range checks
  return ref;
}
