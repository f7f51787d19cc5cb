import { errorMessage, RelayerError } from '../errors.js';

/** One link of an error's cause chain as a log line shows it. */
export interface ErrorLink {
  readonly type: string;
  readonly message: string;
  readonly details?: string;
}

/** An error in a log line: the outermost link, its stack (the full message), whether it is retryable, and every cause. */
export interface SerializedError extends ErrorLink {
  readonly stack?: string;
  readonly retryable?: boolean;
  readonly causes: readonly ErrorLink[];
}

/** Deeper than this a chain is cut: a cause chain that long is a loop we did not see. */
const MAX_CAUSES = 16;

function link(error: unknown): ErrorLink {
  const type = error instanceof Error ? error.name : typeof error;
  const details = (error as { details?: unknown } | null)?.details;
  return { type, message: errorMessage(error), ...(typeof details === 'string' && details !== '' ? { details } : {}) };
}

/** The thrown value and each `cause` under it, outermost first, without repeating one. */
export function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current: unknown = error; current !== undefined && current !== null && !chain.includes(current) && chain.length <= MAX_CAUSES; ) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/**
 * pino's `err` serializer: the short message of every link (viem's and ours first line only;
 * the stack keeps the full text) and `retryable` where the error says, so a failure line reads
 * as "what failed, because of what" without opening the stack.
 */
export function serializeError(error: unknown): SerializedError {
  const [head, ...causes] = causeChain(error);
  return {
    ...link(head),
    ...(head instanceof Error && head.stack ? { stack: head.stack } : {}),
    ...(head instanceof RelayerError ? { retryable: head.retryable } : {}),
    causes: causes.map(link),
  };
}
