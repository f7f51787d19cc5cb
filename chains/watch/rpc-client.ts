import { createPublicClient, fallback, http, type Chain, type PublicClient, type Transport } from 'viem';
import { countingFetch } from '../rpc-errors.js';
import { viemChain } from '../signer.js';

export interface RpcOptions {
  readonly chainId: number;
  /** Tried in order: a URL that errors or times out hands the call to the next one. */
  readonly rpcUrls: readonly string[];
  readonly timeoutMs?: number;
  /** Attempts after the first, with exponential backoff from `retryDelayMs`. */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  readonly pollingIntervalMs?: number;
}

/**
 * A read client for following a chain: every call has a timeout, is retried with backoff, and
 * fails over across the chain's RPC URLs (viem's fallback transport).
 */
export function rpcClient(options: RpcOptions): PublicClient<Transport, Chain> {
  const [first, ...rest] = options.rpcUrls;
  if (first === undefined) throw new Error(`chain ${options.chainId} has no RPC URL`);
  const timeout = options.timeoutMs ?? 10_000;
  const retryCount = options.retries ?? 5;
  const retryDelay = options.retryDelayMs ?? 100;
  const transport =
    rest.length === 0
      ? http(first, { timeout, retryCount, retryDelay, fetchFn: countingFetch(options.chainId) })
      : fallback(
          options.rpcUrls.map((url) => http(url, { timeout, retryCount: 0, fetchFn: countingFetch(options.chainId) })),
          { retryCount, retryDelay },
        );
  return createPublicClient({
    chain: viemChain({ chainId: options.chainId, rpcUrl: first }),
    transport,
    pollingInterval: options.pollingIntervalMs ?? 1_000,
  });
}
