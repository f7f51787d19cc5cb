import { fallback, http, type Transport } from 'viem';
import { RelayerError } from '../relayer/errors.js';
import { countingFetch } from './rpc-errors.js';

export interface RpcTransportOptions {
  readonly chainId: number;
  /** Tried in order: a URL that errors or times out hands the call to the next one. */
  readonly rpcUrls: readonly string[];
  /** No answer within this is a timeout (retried like any transport failure). */
  readonly timeoutMs?: number;
  /** Attempts after the first, with exponential backoff from `retryDelayMs`. */
  readonly retries?: number;
  readonly retryDelayMs?: number;
}

/**
 * How the node talks to a chain: every request has a timeout, a transport or server failure
 * (HTTP 5xx, a reset, a timeout, a body that does not parse, a JSON-RPC internal error) is
 * retried with backoff, and with several URLs the request goes to the next one at once
 * (viem's fallback transport). An execution revert is the chain's answer: never retried.
 */
export function rpcTransport(options: RpcTransportOptions): Transport {
  const [first, ...rest] = options.rpcUrls;
  if (first === undefined) throw new RelayerError(`chain ${options.chainId} has no RPC URL`);
  const timeout = options.timeoutMs ?? 10_000;
  const retryCount = options.retries ?? 5;
  const retryDelay = options.retryDelayMs ?? 100;
  const fetchFn = countingFetch(options.chainId);
  return rest.length === 0
    ? http(first, { timeout, retryCount, retryDelay, fetchFn })
    : fallback(
        options.rpcUrls.map((url) => http(url, { timeout, retryCount: 0, fetchFn })),
        { retryCount, retryDelay },
      );
}
