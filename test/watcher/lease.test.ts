/** One watcher per chain across nodes: a Redis lease, handed over on stop and taken over after a death. */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimWatcherEpoch, FencedOutError, watcherCheckpoints } from '../../db/index.js';
import { RedisLease, type Lease } from '../../relayer/watcher/lease.js';
import { LeaseKeeper } from '../../relayer/watcher/lease-keeper.js';
import { orchestratorSink } from '../../relayer/watcher/shortfall-sink.js';
import type { ChainWatcher } from '../../relayer/watcher/start-chain-watcher.js';
import { WatcherSession } from '../../relayer/watcher/watcher-session.js';
import { BTC, caughtUp, ETH, RecordingLog, sharedBench, shortfallJobs, TEST_RISK, TEST_VOLATILITY, trader, until, type WatcherBench } from './support.js';

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

describe('fenced leases', () => {
  const checkpointRow = async () => {
    const [row] = await bench.ledger.db.select().from(watcherCheckpoints).where(eq(watcherCheckpoints.chainId, bench.chain.chainId));
    return row;
  };
  /** A session driven by hand: `leaseEpoch` is what its own clock says it holds. */
  const openSession = (queues: ReturnType<WatcherBench['queues']>, leaseEpoch: () => bigint | undefined) =>
    WatcherSession.open({
      chain: bench.watched(),
      client: bench.client,
      ledger: bench.ledger.db,
      sink: orchestratorSink(queues),
      risk: TEST_RISK,
      volatility: TEST_VOLATILITY,
      follow: { maxRange: 2_000n, stepBlocks: 10_000n, maxReorgDepth: 64n },
      leaseEpoch,
      signal: new AbortController().signal,
      log: new RecordingLog(),
    });
  const stepToHead = async (session: WatcherSession) => {
    while (!(await session.step()).caughtUp);
  };
  const keeper = (lease: Lease) => new LeaseKeeper({ lease, claimEpoch: () => claimWatcherEpoch(bench.ledger.db, { chainId: bench.chain.chainId, owner: lease.owner }), onLost: () => undefined });

  it('a leader paused past its TTL and taken over writes no checkpoint and no episode when it resumes', async () => {
    const queues = bench.queues();
    const prefix = queues.queues.prefix;
    const pausedLease = new SeveredLease(bench.lease({ prefix, ttlMs: 300 }));
    const first = keeper(pausedLease);
    expect(await first.acquire()).toBe(true);
    const firstEpoch = first.epoch;
    if (firstEpoch === undefined) throw new Error('no epoch');
    // Its clock stopped with it: on resuming it still believes its term goes on.
    const paused = await openSession(queues, () => firstEpoch);
    await stepToHead(paused);
    const before = await checkpointRow();
    expect(before?.epoch).toBe(firstEpoch);

    pausedLease.severed = true; // paused: no renewal goes out, the lease runs out in Redis
    await until('the paused lease expires', async () => (await pausedLease.holder()) === null);
    const secondLease = bench.lease({ prefix, ttlMs: 5_000 });
    const second = keeper(secondLease);
    expect(await second.acquire()).toBe(true);
    expect(second.epoch).toBe(firstEpoch + 1n);
    const leader = await openSession(queues, () => second.epoch); // at the head already: it commits the checkpoint under its epoch
    const handedOver = await checkpointRow();
    expect(handedOver).toMatchObject({ blockNumber: before?.blockNumber, epoch: firstEpoch + 1n });
    const breach = await bench.push(ETH, '2800');

    const refused = await paused.step().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(FencedOutError);
    expect(refused).toMatchObject({ retryable: false, epoch: firstEpoch, current: firstEpoch + 1n });
    expect(await bench.episodes()).toEqual([]);
    expect(await checkpointRow()).toEqual(handedOver);

    await stepToHead(leader);
    expect((await bench.episodes()).map((e) => [e.account, e.episode, e.status])).toEqual([[trader(0), 1n, 'open']]);
    const after = await checkpointRow();
    expect(after?.epoch).toBe(firstEpoch + 1n);
    expect(after?.blockNumber).toBeGreaterThanOrEqual(breach);

    // Resumed again with a further block: still refused, the new leader's rows untouched.
    await bench.push(BTC, '52000');
    await expect(paused.step()).rejects.toBeInstanceOf(FencedOutError);
    expect(await checkpointRow()).toEqual(after);
    expect((await bench.episodes()).map((e) => [e.account, e.episode])).toEqual([[trader(0), 1n]]);

    await second.release();
    pausedLease.severed = false;
    await first.release();
  });

  it('a watcher whose epoch was claimed by another node stops leading, then takes the chain again under a new epoch', async () => {
    const queues = bench.queues();
    const log = new RecordingLog();
    const watcher = bench.watch({ queues, lease: bench.lease({ prefix: queues.queues.prefix, ttlMs: 5_000 }), log });
    await caughtUp(bench, watcher);
    const taken = await claimWatcherEpoch(bench.ledger.db, { chainId: bench.chain.chainId, owner: 'a node that took over' });
    await bench.push(ETH, '2800');

    await until('the watcher is fenced out', () => log.messages('warn').includes('fenced out by a later lease epoch: dropping the chain'));
    await caughtUp(bench, watcher);
    const terms = log.lines.filter((line) => line.msg === 'lease taken: leading the chain').map((line) => BigInt(String(line.fields['epoch'])));
    expect(terms).toHaveLength(2);
    expect(terms[1]).toBe(taken + 1n);
    expect((await checkpointRow())?.epoch).toBe(taken + 1n);
    expect((await bench.episodes()).map((e) => [e.account, e.episode, e.status])).toEqual([[trader(0), 1n, 'open']]);
  });
});
