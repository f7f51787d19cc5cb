/**
 * Where a signer's next nonce on a chain is held, so that no two transactions take the same one.
 *
 * Choice: a Redis lock per signer and chain, with the next nonce in one Redis key beside it,
 * rather than one key (a nonce range) per node. Nodes sharing a relayer key share one nonce
 * sequence on the chain: ranges per node would leave gaps whenever one node sends less than
 * another, and nothing above a gap ever mines. The lock is held only while a transaction is
 * signed and handed to the RPC (milliseconds), never while it waits to be mined, so sends stay
 * pipelined; the key moves on only when the RPC took the transaction, and only while the lock
 * is still ours (a holder that lost its lock past the TTL writes nothing).
 *
 * The nonce comes from the chain at start (the key absent: the pending count) and is held
 * after that; it is raised to the chain's pending count when that is higher (something else
 * sent with the key), and lowered to it when the chain has nothing pending below the held
 * nonce: a gap (a transaction dropped, or a sender that died before its transaction reached
 * the chain) is filled by the next transaction, and the owner of a dropped one re-signs.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** The chain's view of the signer's nonces: transactions mined, and mined plus pending. */
export interface ChainNonces {
  readonly mined: number;
  readonly pending: number;
}

export interface NonceStore {
  /**
   * Runs `send` with the next nonce, alone for this signer and chain; the nonce is used up
   * only when `send` resolves (the RPC took the transaction).
   */
  withNextNonce<T>(chain: () => Promise<ChainNonces>, send: (nonce: number) => Promise<T>): Promise<T>;
}

/** The nonce to send with, from the one held (absent at start) and the chain's counts. */
export function nextNonce(held: number | undefined, chain: ChainNonces): number {
  if (held === undefined || chain.pending > held) return chain.pending;
  // Nothing pending below the held nonce: the transactions in between are gone; fill the gap.
  if (chain.pending < held && chain.pending === chain.mined) return chain.pending;
  return held;
}

/** One after another in this process: the order of the calls is the order of the nonces. */
class LocalQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.then(work, work);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** For one process alone with its key (devnets, tools): the nonce held in memory. */
export class MemoryNonceStore implements NonceStore {
  private held: number | undefined;
  private readonly queue = new LocalQueue();

  withNextNonce<T>(chain: () => Promise<ChainNonces>, send: (nonce: number) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      const nonce = nextNonce(this.held, await chain());
      const result = await send(nonce);
      this.held = nonce + 1;
      return result;
    });
  }
}

/** Sets the nonce key only while the lock holds this token. */
const SET_IF_HELD = `if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[2], ARGV[2]) return 1 end return 0`;
const RELEASE_IF_HELD = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/** Shared by every node with the same key and Redis prefix (see the top of this file). */
export class RedisNonceStore implements NonceStore {
  private readonly lockKey: string;
  private readonly nonceKey: string;
  private readonly queue = new LocalQueue();

  constructor(
    private readonly redis: Redis,
    params: { prefix: string; chainId: number; address: string; lockTtlMs?: number },
    private readonly lockTtlMs = params.lockTtlMs ?? 30_000,
  ) {
    const id = `${params.chainId}:${params.address.toLowerCase()}`;
    this.lockKey = `${params.prefix}:nonce-lock:${id}`;
    this.nonceKey = `${params.prefix}:nonce:${id}`;
  }

  withNextNonce<T>(chain: () => Promise<ChainNonces>, send: (nonce: number) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      const token = randomUUID();
      for (let wait = 1; (await this.redis.set(this.lockKey, token, 'PX', this.lockTtlMs, 'NX')) !== 'OK'; wait = Math.min(wait * 2, 20)) {
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      try {
        const held = await this.redis.get(this.nonceKey);
        const nonce = nextNonce(held === null ? undefined : Number(held), await chain());
        const result = await send(nonce);
        await this.redis.eval(SET_IF_HELD, 2, this.lockKey, this.nonceKey, token, String(nonce + 1));
        return result;
      } finally {
        await this.redis.eval(RELEASE_IF_HELD, 1, this.lockKey, token);
      }
    });
  }
}
