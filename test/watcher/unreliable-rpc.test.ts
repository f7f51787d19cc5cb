/** An RPC that fails every other call: the watcher retries, fails over, and reports exactly what it should. */
import { beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../chains/devnet/anvil.js';
import { rpcClient } from '../../chains/watch/rpc-client.js';
import { RpcProxy } from '../../chains/devnet/rpc-proxy.js';
import { atRiskByViews, BTC, caughtUp, ETH, sharedBench, shortfallJobs, trader, type WatcherBench } from './support.js';

const shared = sharedBench();
let bench: WatcherBench;
beforeEach(() => {
  bench = shared();
});

const everyone = [0, 1, 2, 3].map(trader);

describe('an unreliable RPC', () => {
  it('still yields the right reports, with the chain’s numbers, when every other call fails', async () => {
    let failed = 0;
    const proxy = new RpcProxy(bench.chain.rpcUrl, (_request, n) => {
      if (n % 2 === 1) return 'forward';
      failed += 1;
      return { status: 500, body: { error: { code: -32603, message: 'flaky upstream' } } };
    });
    const url = await proxy.start();
    try {
      const queues = bench.queues();
      const client = rpcClient({ chainId: bench.chain.chainId, rpcUrls: [url], retries: 3, retryDelayMs: 5, timeoutMs: 2_000 });
      // Small ranges and steps: many calls, so many failures, during the backfill too.
      const watcher = bench.watch({ queues, client, follow: { maxRange: 7n, stepBlocks: 11n } });
      await caughtUp(bench, watcher);
      await bench.push(ETH, '2800');
      await bench.push(BTC, '52000');
      await caughtUp(bench, watcher);

      const expected = await atRiskByViews(bench, everyone);
      expect(expected).toEqual([trader(0), trader(1)].sort());
      const jobs = [...(await shortfallJobs(queues)).values()];
      expect(jobs.map((job) => job.account).sort()).toEqual(expected);
      for (const job of jobs) {
        const view = await bench.accountView(job.account as `0x${string}`);
        expect({ equity: job.equity, maintenance: job.maintenance, episode: job.episode }).toEqual({ equity: view.equity.toString(), maintenance: view.maintenanceMargin.toString(), episode: '1' });
      }
      expect(failed).toBeGreaterThan(20);
    } finally {
      await proxy.stop();
    }
  });

  it('fails over to the next RPC URL when the first one does not answer', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const queues = bench.queues();
    const watcher = bench.watch({ queues, chain: bench.watched({ rpcUrls: [dead, bench.chain.rpcUrl] }) });
    await caughtUp(bench, watcher);
    await bench.push(ETH, '2800');
    await caughtUp(bench, watcher);
    expect([...(await shortfallJobs(queues)).values()].map((job) => job.account)).toEqual([trader(0)]);
  });
});
