import { guardians } from '@wormhole-foundation/sdk-base';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

/**
 * Wormhole's devnet guardian (guardian set 0 of every devnet): the node plays this guardian on
 * the devnet. Its key is public, shipped in the SDK, and must never sign for a live network.
 */
const privateKey: Hex = `0x${guardians.devnetGuardianPrivateKey}`;
export const DEVNET_GUARDIAN: { readonly privateKey: Hex; readonly address: Address } = {
  privateKey,
  address: privateKeyToAccount(privateKey).address,
};
