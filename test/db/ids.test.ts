/** Derived ids: stable, the documented ABI encoding, and distinct for distinct facts. */
import { concat, keccak256, numberToHex, padHex, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { legIdOf, settlementIdOf, shortfallIdOf } from '../../db/ids.js';
import { messageIdOf, parseMessageId } from '../../db/message-id.js';

/** One 32-byte ABI word, built by hand to check the encoding independently of viem's encoder. */
function word(value: bigint | Hex): Hex {
  return typeof value === 'bigint' ? numberToHex(value, { size: 32 }) : padHex(value, { size: 32 });
}

const ENGINE = '0x1111111111111111111111111111111111111111';
const ACCOUNT = '0x2222222222222222222222222222222222222222';

describe('ids', () => {
  it('shortfallId = keccak256(abi.encode(chainId, engine, account, episode))', () => {
    const id = shortfallIdOf({ chainId: 31337, engine: ENGINE, account: ACCOUNT, episode: 7n });
    expect(id).toBe(keccak256(concat([word(31337n), word(ENGINE), word(ACCOUNT), word(7n)])));
    expect(shortfallIdOf({ chainId: 31337n, engine: ENGINE, account: ACCOUNT, episode: 7n })).toBe(id);
    expect(shortfallIdOf({ chainId: 31337, engine: ENGINE, account: ACCOUNT, episode: 8n })).not.toBe(id);
    // Address case does not matter: it is the same account.
    expect(shortfallIdOf({ chainId: 31337, engine: ENGINE, account: ACCOUNT.toUpperCase().replace('0X', '0x') as Hex, episode: 7n })).toBe(id);
  });

  it('settlementId and legId are keccak256(abi.encode(bytes32, uint32))', () => {
    const shortfallId = shortfallIdOf({ chainId: 1, engine: ENGINE, account: ACCOUNT, episode: 1n });
    const settlementId = settlementIdOf({ shortfallId, revision: 2 });
    expect(settlementId).toBe(keccak256(concat([shortfallId, word(2n)])));
    const legId = legIdOf({ settlementId, index: 3 });
    expect(legId).toBe(keccak256(concat([settlementId, word(3n)])));
    expect(new Set([0, 1, 2, 3].map((index) => legIdOf({ settlementId, index }))).size).toBe(4);
  });
});

describe('message ids', () => {
  const emitter = `0x${'00'.repeat(12)}${'ab'.repeat(20)}` as const;

  it('names a Wormhole message chain/emitter/sequence and a LayerZero packet by its GUID', () => {
    const wormhole = { transport: 'wormhole', emitterChain: 4, emitter, sequence: 2n ** 64n - 1n } as const;
    expect(messageIdOf(wormhole)).toBe(`4/${emitter.slice(2)}/18446744073709551615`);
    expect(parseMessageId(messageIdOf(wormhole))).toEqual(wormhole);
    const guid = keccak256('0x01');
    expect(messageIdOf({ transport: 'layerzero', guid: guid.toUpperCase().replace('0X', '0x') as Hex })).toBe(guid);
    expect(parseMessageId(guid)).toEqual({ transport: 'layerzero', guid });
  });

  it('refuses what is not a message id', () => {
    expect(() => messageIdOf({ transport: 'wormhole', emitterChain: 0, emitter, sequence: 1n })).toThrow(/uint16/);
    expect(() => messageIdOf({ transport: 'wormhole', emitterChain: 2, emitter, sequence: 2n ** 64n })).toThrow(/uint64/);
    expect(() => parseMessageId('2/abc/1')).toThrow(/not a message id/);
  });
});
