import { ethers_contracts } from '@wormhole-foundation/sdk-evm-core';
import { encodeAbiParameters, keccak256, numberToHex, pad, type Address, type Hex } from 'viem';
import { RelayerError } from '../../relayer/errors.js';
import { wormholeCoreAbi } from '../messaging/wormhole/abi.js';
import { DEVNET_GUARDIAN } from '../messaging/wormhole/guardian.js';
import type { Signer } from '../signer.js';
import { anvilControl } from './control.js';

/** Where the devnet installs the core bridge on every chain (Wormhole's own devnet address). */
export const WORMHOLE_CORE_ADDRESS: Address = '0xC89Ce4735882C9F0f0FE26686c53074E09B0D550';
/** Governance lives on Solana (chain 1) with contract 0x..04, as on Wormhole's devnet. */
const GOVERNANCE_CHAIN = 1;
const GOVERNANCE_CONTRACT: Hex = pad('0x04', { size: 32 });

/**
 * The Implementation's runtime code: its creation code is a 28-byte stub that copies the
 * runtime, with no constructor and no immutables.
 */
function coreRuntime(): Hex {
  return `0x${ethers_contracts.Implementation__factory.bytecode.slice(2 + 56)}`;
}

const slot = (n: bigint | number): Hex => numberToHex(BigInt(n), { size: 32 });
const word = (value: bigint): Hex => numberToHex(value, { size: 32 });

/**
 * The storage of a fresh core (State.sol, `WormholeState` at slot 0): chain ids, governance,
 * guardian set 0 with the devnet guardian, message fee and the EVM chain id (which must match
 * the chain's, or the core believes it runs on a fork).
 */
function coreStorage(params: { wormholeChainId: number; evmChainId: number; messageFee: bigint }): [Hex, Hex][] {
  const setBase = BigInt(keccak256(encodeAbiParameters([{ type: 'uint32' }, { type: 'uint256' }], [0, 2n])));
  const keysBase = BigInt(keccak256(slot(setBase)));
  return [
    [slot(0), word((BigInt(GOVERNANCE_CHAIN) << 16n) | BigInt(params.wormholeChainId))],
    [slot(1), GOVERNANCE_CONTRACT],
    [slot(setBase), word(1n)], // guardian set 0: one key
    [slot(keysBase), word(BigInt(DEVNET_GUARDIAN.address))],
    [slot(setBase + 1n), word(0n)], // never expires
    [slot(3), word(0n)], // current guardian set index 0
    [slot(7), word(params.messageFee)],
    [slot(8), word(BigInt(params.evmChainId))],
  ];
}

/**
 * Installs the real core bridge at WORMHOLE_CORE_ADDRESS (code and state written directly,
 * which leaves the deployer's nonce alone) and reads its state back: any difference stops the
 * devnet before a message could go through a misconfigured core.
 */
export async function installWormholeCore(params: {
  signer: Signer;
  wormholeChainId: number;
  messageFee: bigint;
}): Promise<Address> {
  const { signer, wormholeChainId, messageFee } = params;
  const client = signer.public;
  const evmChainId = signer.chainId;
  const anvil = anvilControl(signer.endpoint);
  await anvil.setCode({ address: WORMHOLE_CORE_ADDRESS, bytecode: coreRuntime() });
  for (const [index, value] of coreStorage({ wormholeChainId, evmChainId, messageFee })) {
    await anvil.setStorageAt({ address: WORMHOLE_CORE_ADDRESS, index, value });
  }
  const read = <const name extends 'chainId' | 'evmChainId' | 'isFork' | 'getCurrentGuardianSetIndex' | 'messageFee' | 'governanceChainId'>(functionName: name) =>
    client.readContract({ address: WORMHOLE_CORE_ADDRESS, abi: wormholeCoreAbi, functionName });
  const [chainId, readEvmChainId, isFork, setIndex, fee, governanceChainId, guardianSet] = await Promise.all([
    read('chainId'),
    read('evmChainId'),
    read('isFork'),
    read('getCurrentGuardianSetIndex'),
    read('messageFee'),
    read('governanceChainId'),
    client.readContract({ address: WORMHOLE_CORE_ADDRESS, abi: wormholeCoreAbi, functionName: 'getGuardianSet', args: [0] }),
  ]);
  const checks: [string, unknown, unknown][] = [
    ['chainId', chainId, wormholeChainId],
    ['evmChainId', readEvmChainId, BigInt(evmChainId)],
    ['isFork', isFork, false],
    ['getCurrentGuardianSetIndex', setIndex, 0],
    ['messageFee', fee, messageFee],
    ['governanceChainId', governanceChainId, GOVERNANCE_CHAIN],
    ['guardian set 0', guardianSet.keys.join(','), DEVNET_GUARDIAN.address],
    ['guardian set 0 expiry', guardianSet.expirationTime, 0],
  ];
  for (const [what, actual, expected] of checks) {
    if (actual !== expected) {
      throw new RelayerError(`Wormhole core on chain ${evmChainId} reads ${what} = ${String(actual)}, expected ${String(expected)}`);
    }
  }
  return WORMHOLE_CORE_ADDRESS;
}
