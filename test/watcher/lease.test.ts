/** One watcher per chain across nodes: a Redis lease, handed over on stop and taken over after a death. */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisLease, type Lease } from '../../relayer/watcher/lease.js';
import type { ChainWatcher } from '../../relayer/watcher/start-chain-watcher.js';
import { BTC, caughtUp, ETH, sharedBench, shortfallJobs, trader, until, type WatcherBench } from './support.js';

const shared = sharedBench();
let bench: WatcherBench;
beforeEach(() => {
  bench = shared();
});

/** A node cut off from Redis (dead, frozen or partitioned): every lease call fails from now on. */
class SeveredLease implements Lease {
  severed = false;
  constructor(private readonly inner: Lease) {}
  get name() {
    return this.inner.name;
  }
  get owner() {
    return this.inner.owner;
  }
  get ttlMs() {
    return this.inner.ttlMs;
  }
  acquire() {
    return this.severed ? Promise.reject(new Error('node is gone')) : this.inner.acquire();
  }
  renew() {
    return this.severed ? Promise.reject(new Error('node is gone')) : this.inner.renew();
  }
  release() {
    return this.severed ? Promise.reject(new Error('node is gone')) : this.inner.release();
  }
  holder() {
    return this.inner.holder();
  }
}

/** Samples who believes it leads, all along: two at once would be a failure of the lease. */
class LeadershipProbe {
  overlaps = 0;
  samples = 0;
  readonly #timer: NodeJS.Timeout;
  constructor(watchers: readonly ChainWatcher[]) {
    this.#timer = setInterval(() => {
      this.samples += 1;
      if (watchers.filter((watcher) => watcher.status().leader).length > 1) this.overlaps += 1;
    }, 2);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

let probe: LeadershipProbe | undefined;
afterEach(() => {
  probe?.stop();
  probe = undefined;
});

describe('the Redis lease', () => {
  it('has one owner at a time; only the owner extends or releases it', async () => {
    const prefix = `lt-${randomBytes(4).toString('hex')}`;
    const a = new RedisLease({ redis: bench.redis(), name: 'watcher:test', prefix, ttlMs: 5_000 });
    const b = new RedisLease({ redis: bench.redis(), name: 'watcher:test', prefix, ttlMs: 5_000 });
    expect(await a.acquire()).toBe(true);
    expect(await a.acquire()).toBe(true); // ours: extended
    expect(await b.acquire()).toBe(false);
    expect(await b.renew()).toBe(false);
    await b.release(); // not its lease: nothing happens
    expect(await a.holder()).toBe(a.owner);
    expect(await a.renew()).toBe(true);
    await a.release();
    expect(await a.holder()).toBeNull();
    expect(await a.renew()).toBe(false);
    expect(await b.acquire()).toBe(true);
    await b.release();
  });
});

describe('two nodes on one chain', () => {
  it('exactly one leads; when it stops, the other takes over and carries on from the checkpoint', async () => {
    const queues = bench.queues();
    const prefix = queues.queues.prefix;
    const first = bench.watch({ queues, lease: bench.lease({ prefix, ttlMs: 1_000 }) });
    await until('a node leads', () => first.status().leader);
    const second = bench.watch({ queues, lease: bench.lease({ prefix, ttlMs: 1_000 }) });
    probe = new LeadershipProbe([first, second]);
    await caughtUp(bench, first);
    await bench.push(ETH, '2800');
    await caughtUp(bench, first);
    expect(second.status()).toMatchObject({ state: 'standby', leader: false });

    await first.stop();
    await until('the other node leads', () => second.status().leader);
    await caughtUp(bench, second);
    await bench.push(ETH, '2950');
    await caughtUp(bench, second); // seen apart: a recovery and a new breach, not one long episode
    await bench.push(ETH, '2790');
    await caughtUp(bench, second);

    expect((await bench.episodes()).map((e) => [e.account, e.episode, e.status])).toEqual([
      [trader(0), 1n, 'closed'],
      [trader(0), 2n, 'open'],
    ]);
    expect([...(await shortfallJobs(queues)).values()].map((job) => job.episode)).toEqual(['2']);
    expect(probe.samples).toBeGreaterThan(0);
    expect(probe.overlaps).toBe(0);
  });

  it('when the leader dies without a word, the other takes over once its lease runs out', async () => {
    const queues = bench.queues();
    const prefix = queues.queues.prefix;
    const doomed = new SeveredLease(bench.lease({ prefix, ttlMs: 1_000 }));
    const first = bench.watch({ queues, lease: doomed });
    await caughtUp(bench, first);
    const second = bench.watch({ queues, lease: bench.lease({ prefix, ttlMs: 1_000 }) });
    probe = new LeadershipProbe([first, second]);
    await bench.push(ETH, '2800');
    await caughtUp(bench, first);
    expect(second.status().leader).toBe(false);

    doomed.severed = true; // gone: it neither renews nor releases; its lease stays until the TTL ends
    expect(await doomed.holder()).toBe(doomed.owner);
    await until('the other node leads', () => second.status().leader);
    expect(await doomed.holder()).not.toBe(doomed.owner);
    await caughtUp(bench, second);
    await bench.push(BTC, '52000');
    await caughtUp(bench, second);

    // The episode opened before the death is continued, not reported again.
    expect((await bench.episodes()).map((e) => [e.account, e.episode, e.status]).sort()).toEqual(
      [
        [trader(0), 1n, 'open'],
        [trader(1), 1n, 'open'],
      ].sort(),
    );
    expect([...(await shortfallJobs(queues)).values()].map((job) => [job.account, job.episode]).sort()).toEqual(
      [
        [trader(0), '1'],
        [trader(1), '1'],
      ].sort(),
    );
    expect(first.status().leader).toBe(false);
    expect(probe.overlaps).toBe(0);
  });
});
