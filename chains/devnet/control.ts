import { createTestClient, http } from 'viem';
import { viemChain, type ChainEndpoint } from '../signer.js';

/** anvil's cheat codes (set code and storage, mining mode, state dumps) for one devnet chain. */
export function anvilControl(endpoint: ChainEndpoint) {
  return createTestClient({ mode: 'anvil', chain: viemChain(endpoint), transport: http(endpoint.rpcUrl) });
}
