import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { RelayerError } from '../errors.js';

/**
 * A lease on a named role (a chain's watcher) shared by every node: at most one owner at a
 * time, for `ttlMs` after its last acquire or renewal, so a node that dies loses it by itself.
 */
export interface Lease {
  readonly name: string;
  /** Who this node is, as stored in the lease. */
  readonly owner: string;
  readonly ttlMs: number;
  /** Takes the lease when nobody holds it (or extends it when we do); true when ours. */
  acquire(): Promise<boolean>;
  /** Extends the lease only while it is still ours (compare and extend); false when lost. */
  renew(): Promise<boolean>;
  /** Gives the lease up if it is still ours, so another node need not wait for the TTL. */
  release(): Promise<void>;
  /** The current owner, or null when free. */
  holder(): Promise<string | null>;
}

const ACQUIRE = `
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
return 0`;
const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

/** A node identity for leases: host, process and a random part (two watchers in one process differ). */
export function leaseOwner(): string {
  return `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
}

/**
 * The lease in Redis: `SET key owner NX PX ttl` to take it, Lua scripts that touch the key only
 * if it still holds our owner string to extend or release it (a node whose lease expired and
 * was taken over can never extend or delete the new owner's).
 */
export class RedisLease implements Lease {
  readonly name: string;
  readonly owner: string;
  readonly ttlMs: number;
  readonly #redis: Redis;
  readonly #key: string;

  constructor(params: { redis: Redis; name: string; ttlMs: number; owner?: string; prefix?: string }) {
    if (!(Number.isInteger(params.ttlMs) && params.ttlMs >= 100)) throw new RelayerError(`a lease TTL must be a whole number of milliseconds, at least 100, got ${params.ttlMs}`);
    this.#redis = params.redis;
    this.name = params.name;
    this.owner = params.owner ?? leaseOwner();
    this.ttlMs = params.ttlMs;
    this.#key = `${params.prefix ?? 'relayer'}:lease:${params.name}`;
  }

  async acquire(): Promise<boolean> {
    return (await this.#script(ACQUIRE, 'acquire', String(this.ttlMs))) === 1;
  }

  async renew(): Promise<boolean> {
    return (await this.#script(RENEW, 'renew', String(this.ttlMs))) === 1;
  }

  async release(): Promise<void> {
    await this.#script(RELEASE, 'release');
  }

  holder(): Promise<string | null> {
    return this.#redis.get(this.#key);
  }

  async #script(script: string, what: string, ...args: string[]): Promise<unknown> {
    try {
      return await this.#redis.eval(script, 1, this.#key, this.owner, ...args);
    } catch (cause) {
      throw new RelayerError(`lease ${this.name}: ${what} failed in Redis`, { cause, retryable: true });
    }
  }
}
