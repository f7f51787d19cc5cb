import { EventEmitter } from 'node:events';

/**
 * Failed RPC calls, as they happen, for the node's metrics: every viem HTTP transport the
 * node creates fetches through `countingFetch`, which reports here, by chain id, a network
 * failure, a non-2xx answer, and a JSON-RPC error inside a 200 answer (-32000 "header not
 * found", -32005 rate limited, -32603 internal error, ...). An execution revert (JSON-RPC code
 * 3, a message saying "execution reverted", or an error carrying revert data: a hex string of at
 * least a selector, as some nodes send a revert under -32603 or -32000) is the contract's answer,
 * not an RPC failure: never counted.
 */
const failures = new EventEmitter();

export function onRpcFailure(listener: (chainId: number) => void): () => void {
  failures.on('failure', listener);
  return () => failures.off('failure', listener);
}

/** JSON-RPC code of an execution revert (EIP-1474 / geth, anvil). */
const EXECUTION_REVERTED = 3;

function isRevertAnswer(error: { code?: unknown; message?: unknown; data?: unknown }): boolean {
  if (error.code === EXECUTION_REVERTED) return true;
  if (typeof error.message === 'string' && /execution reverted/i.test(error.message)) return true;
  return typeof error.data === 'string' && /^0x[0-9a-f]{8,}$/i.test(error.data);
}

/** How many answers of a JSON-RPC body (one object, or a batch array) are errors other than reverts. */
export function rpcErrorAnswers(body: string): number {
  if (!body.includes('"error"')) return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 0; // a body that does not parse fails in the transport, which retries it
  }
  const answers = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  return answers.filter((answer) => {
    if (typeof answer !== 'object' || answer === null) return false;
    const error = (answer as { error?: unknown }).error;
    return typeof error === 'object' && error !== null && !isRevertAnswer(error as { code?: unknown; message?: unknown; data?: unknown });
  }).length;
}

export function countingFetch(chainId: number): typeof fetch {
  return async (input, init) => {
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      failures.emit('failure', chainId);
      throw error;
    }
    if (!response.ok) {
      failures.emit('failure', chainId);
      return response;
    }
    let body: string;
    try {
      body = await response.clone().text();
    } catch {
      failures.emit('failure', chainId); // the answer broke off: the transport fails on it too
      return response;
    }
    for (let n = rpcErrorAnswers(body); n > 0; n -= 1) failures.emit('failure', chainId);
    return response;
  };
}
