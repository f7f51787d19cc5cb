import { EventEmitter } from 'node:events';

/**
 * Failed RPC calls, as they happen, for the node's metrics: every viem HTTP transport the
 * node creates fetches through `countingFetch`, which reports a network failure or a non-2xx
 * answer here, by chain id. (JSON-RPC errors inside a 200 answer are the call's business.)
 */
const failures = new EventEmitter();

export function onRpcFailure(listener: (chainId: number) => void): () => void {
  failures.on('failure', listener);
  return () => failures.off('failure', listener);
}

export function countingFetch(chainId: number): typeof fetch {
  return async (input, init) => {
    try {
      const response = await fetch(input, init);
      if (!response.ok) failures.emit('failure', chainId);
      return response;
    } catch (error) {
      failures.emit('failure', chainId);
      throw error;
    }
  };
}
