import { createPublicClient, type Chain, type PublicClient, type Transport } from 'viem';
import { rpcTransport, type RpcTransportOptions } from '../rpc-transport.js';
import { viemChain } from '../signer.js';

export interface RpcOptions extends RpcTransportOptions {
  readonly pollingIntervalMs?: number;
}

/**
 * A read client for following a chain: every call has a timeout, is retried with backoff, and
 * fails over across the chain's RPC URLs (`rpcTransport`).
 */
export function rpcClient(options: RpcOptions): PublicClient<Transport, Chain> {
  return createPublicClient({
    chain: viemChain({ chainId: options.chainId, rpcUrl: options.rpcUrls[0] ?? '' }),
    transport: rpcTransport(options),
    pollingInterval: options.pollingIntervalMs ?? 1_000,
  });
}
