import { Redis } from 'ioredis';
import { RelayerError } from '../errors.js';

/** The ioredis internals a socketless disconnect has to finish by hand (see `endWhenSocketless`). */
interface ClientInternals {
  manuallyClosing: boolean;
  prevCommandQueue: { shift(): { command: { reject(error: Error): void } } | undefined } | null;
  setStatus(status: 'end'): void;
  flushQueue(error: Error): void;
}

/**
 * Fixes a hang after Redis restarts. ioredis' `disconnect()` while the client waits to reconnect
 * (status `reconnecting`: no socket, a retry timer) clears the timer but, with no socket to close,
 * never emits `end` and leaves the client `reconnecting` for good. BullMQ's `Worker.close()`
 * disconnects the worker's blocking connection (a `duplicate()` of ours) and waits for `end`, so
 * closing a worker whose blocking connection had not reconnected yet never returned. Here such a
 * disconnect ends the client the way ioredis does when a socket closes: status `end`, pending
 * commands rejected. Duplicates get the same fix. It reads ioredis' private fields, so ioredis
 * is pinned in package.json; test/orchestrator/redis-restart.test.ts fails if they change.
 */
function endWhenSocketless(client: Redis): Redis {
  const disconnect = client.disconnect.bind(client);
  const duplicate = client.duplicate.bind(client);
  client.disconnect = (reconnect = false) => {
    const socketless = !reconnect && client.status === 'reconnecting';
    disconnect(reconnect);
    if (!socketless || client.status !== 'reconnecting') return;
    const internals = client as unknown as ClientInternals;
    internals.manuallyClosing = false;
    internals.setStatus('end');
    const closed = new Error('Connection is closed.');
    internals.flushQueue(closed);
    // Commands in flight when the socket dropped wait here to be re-sent on reconnect.
    for (let item = internals.prevCommandQueue?.shift(); item; item = internals.prevCommandQueue?.shift()) item.command.reject(closed);
    internals.prevCommandQueue = null;
  };
  client.duplicate = ((override?: Parameters<Redis['duplicate']>[0]) => endWhenSocketless(duplicate(override))) as Redis['duplicate'];
  return client;
}

/**
 * A Redis client for BullMQ: `maxRetriesPerRequest: null` (BullMQ's workers block on Redis
 * and must not give up on a command while Redis restarts), and auto-pipelining: the commands
 * that many concurrent jobs issue in one turn of the event loop go out in one write, which
 * under load is most of what a job costs (`npm run bench:orchestrator`).
 */
export function createRedis(url: string): Redis {
  return endWhenSocketless(new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false, enableAutoPipelining: true }));
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
