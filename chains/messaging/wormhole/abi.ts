import { ethers_contracts } from '@wormhole-foundation/sdk-evm-core';
import { parseAbi } from 'viem';

/** The real core bridge's ABI, as shipped with its bytecode in the Wormhole SDK. */
export const wormholeCoreAbi = ethers_contracts.Implementation__factory.abi;

/**
 * What the node needs of a Wormhole receiving app: it delivers a signed VAA itself (the app
 * verifies it through the core bridge), and reads whether a VAA was already consumed.
 */
export const wormholeReceiverAbi = parseAbi([
  'function receiveWormholeMessage(bytes encodedVaa)',
  'function wormholeVaaConsumed(bytes32 vaaHash) view returns (bool)',
]);
