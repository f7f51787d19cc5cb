import { Redis } from 'ioredis';
import { RelayerError } from '../errors.js';

/**
 * A Redis client for BullMQ: `maxRetriesPerRequest: null` (BullMQ's workers block on Redis
 * and must not give up on a command while Redis restarts).
 */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

/** Fails fast, with one clear line, when no Redis answers at `url`. */
export async function assertRedisAnswers(url: string, timeoutMs = 2_000): Promise<void> {
  const probe = new Redis(url, { maxRetriesPerRequest: 0, connectTimeout: timeoutMs, lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (cause) {
    const where = new URL(url);
    throw new RelayerError(`no Redis answers at ${where.hostname}:${where.port || 6379} (set REDIS_URL, or start redis-server)`, { cause });
  } finally {
    probe.disconnect();
  }
}
