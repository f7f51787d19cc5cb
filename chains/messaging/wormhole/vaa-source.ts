import { toChain } from '@wormhole-foundation/sdk-base';
import { getVaaBytes } from '@wormhole-foundation/sdk-connect/whscan-api';
import { UniversalAddress, createVAA, serialize } from '@wormhole-foundation/sdk-definitions';
import { mocks } from '@wormhole-foundation/sdk-definitions/testing';
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { RelayerError } from '../../../relayer/errors.js';
import { signedVaaBody, vaaBody, type WormholeMessage } from './message.js';

export type PublishedMessage = WormholeMessage & { timestamp: number };

/** Where signed VAAs come from: the devnet guardian, or the guardian network's API. */
export interface VaaSource {
  /** The signed VAA of a published message; throws when none can be had in time. */
  signedVaa(message: PublishedMessage): Promise<Hex>;
}

const idString = (message: WormholeMessage): string => `${message.emitterChain}/${message.emitter.slice(2)}/${message.sequence}`;

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

  async signedVaa(message: PublishedMessage): Promise<Hex> {
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
 * Live networks: the signed VAA is fetched with the Wormhole SDK's own Wormholescan lookup
 * (`GET {api}/v1/signed_vaa/{chain}/{emitter}/{sequence}`; 404 means not signed yet), polled
 * every `pollMs` until `timeoutMs`. What the API returns is not trusted: a VAA whose body is
 * not the message we published is refused (the core bridge checks the signatures).
 */
export class WormholescanVaaSource implements VaaSource {
  constructor(private readonly options: { apiUrl: string; timeoutMs: number; pollMs?: number }) {}

  async signedVaa(message: PublishedMessage): Promise<Hex> {
    const id = { chain: toChain(message.emitterChain), emitter: new UniversalAddress(hexToBytes(message.emitter)), sequence: message.sequence };
    const deadline = Date.now() + this.options.timeoutMs;
    for (;;) {
      let bytes: Uint8Array | null;
      try {
        bytes = await getVaaBytes(this.options.apiUrl, id);
      } catch (cause) {
        throw new RelayerError(`fetching VAA ${idString(message)} from ${new URL(this.options.apiUrl).host} failed`, { cause, retryable: true });
      }
      if (bytes) return this.checked(message, bytesToHex(bytes));
      if (Date.now() >= deadline) {
        throw new RelayerError(`no signed VAA for ${idString(message)} within ${this.options.timeoutMs} ms`, { retryable: true });
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pollMs ?? 2_000));
    }
  }

  private checked(message: PublishedMessage, vaa: Hex): Hex {
    let body: Hex;
    try {
      body = signedVaaBody(vaa);
    } catch (cause) {
      throw new RelayerError(`the API returned an unparsable VAA for ${idString(message)}`, { cause });
    }
    if (body !== vaaBody(message)) throw new RelayerError(`the API returned a VAA for ${idString(message)} whose body is not the published message`);
    return vaa;
  }
}
