import { toChain } from '@wormhole-foundation/sdk-base';
import { getVaaBytesWithRetry } from '@wormhole-foundation/sdk-connect/whscan-api';
import { UniversalAddress, createVAA, serialize } from '@wormhole-foundation/sdk-definitions';
import { mocks } from '@wormhole-foundation/sdk-definitions/testing';
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { RelayerError } from '../../../relayer/errors.js';
import type { WormholeMessage } from './message.js';

/** Where signed VAAs come from: the devnet guardian, or the guardian network's API. */
export interface VaaSource {
  /** The signed VAA of a published message; throws when none can be had in time. */
  signedVaa(message: WormholeMessage & { timestamp: number }): Promise<Hex>;
}

/**
 * The devnet: the node is the guardian. It builds the VAA body exactly as guardians do (the
 * block timestamp, the emitter, sequence, nonce and consistency of the published message) and
 * signs it with the given guardian keys (by default Wormhole's devnet guardian set 0).
 */
export class DevnetGuardianVaaSource implements VaaSource {
  private readonly guardians: InstanceType<typeof mocks.MockGuardians>;

  constructor(options: { guardianSetIndex?: number; guardianKeys?: readonly Hex[] } = {}) {
    this.guardians = options.guardianKeys
      ? new mocks.MockGuardians(options.guardianSetIndex ?? 0, options.guardianKeys.map((key) => key.slice(2)))
      : mocks.devnetGuardianSet();
  }

  async signedVaa(message: WormholeMessage & { timestamp: number }): Promise<Hex> {
    const vaa = createVAA('Uint8Array', {
      guardianSet: this.guardians.setIndex,
      signatures: [],
      timestamp: message.timestamp,
      nonce: message.nonce,
      emitterChain: toChain(message.emitterChain),
      emitterAddress: new UniversalAddress(hexToBytes(message.emitter)),
      sequence: message.sequence,
      consistencyLevel: message.consistencyLevel,
      payload: hexToBytes(message.payload),
    });
    return bytesToHex(serialize(this.guardians.addSignatures(vaa)));
  }
}

/**
 * Live networks: the signed VAA is fetched from a Wormholescan-compatible API with the SDK's
 * own lookup (`GET /v1/signed_vaa/{chain}/{emitter}/{sequence}`), retried until `timeoutMs`.
 */
export class WormholescanVaaSource implements VaaSource {
  constructor(private readonly options: { apiUrl: string; timeoutMs: number }) {}

  async signedVaa(message: WormholeMessage): Promise<Hex> {
    const id = { chain: toChain(message.emitterChain), emitter: new UniversalAddress(hexToBytes(message.emitter)), sequence: message.sequence };
    let bytes: Uint8Array | null;
    try {
      bytes = await getVaaBytesWithRetry(this.options.apiUrl, id, this.options.timeoutMs);
    } catch (cause) {
      throw new RelayerError(`fetching VAA ${message.emitterChain}/${message.emitter.slice(2)}/${message.sequence} failed`, { cause, retryable: true });
    }
    if (!bytes) {
      throw new RelayerError(`no signed VAA for ${message.emitterChain}/${message.emitter.slice(2)}/${message.sequence} within ${this.options.timeoutMs} ms`, {
        retryable: true,
      });
    }
    return bytesToHex(bytes);
  }
}

