/** Restarts: a watcher killed mid-backfill, or while down, reaches the state of one that never stopped. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { rpcClient } from '../../chains/watch/rpc-client.js';
import { eq } from 'drizzle-orm';
import { registerChains, shortfalls, watcherCheckpoints, type LedgerHandle } from '../../db/index.js';
import { loadCheckpoint } from '../../relayer/watcher/episode-ledger.js';
import type { ShortfallReport } from '../../relayer/orchestrator/shortfall-report.js';
import type { ShortfallSink } from '../../relayer/watcher/shortfall-sink.js';
import { orchestratorSink } from '../../relayer/watcher/shortfall-sink.js';
import type { ChainWatcher } from '../../relayer/watcher/start-chain-watcher.js';
import { RpcProxy } from '../../chains/devnet/rpc-proxy.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { BTC, caughtUp, ETH, expectIndexMatchesViews, sharedBench, shortfallJobs, trader, until, type WatcherBench } from './support.js';

const shared = sharedBench();
let bench: WatcherBench;
beforeEach(() => {
  bench = shared();
});

/** A second ledger, for the watcher that never stops. */
let reference: { ledger: LedgerHandle; cleanup(): Promise<void> };
beforeAll(async () => {
  reference = await createMigratedLedger();
});
afterAll(async () => {
  await reference?.cleanup();
});

const everyone = [0, 1, 2, 3].map(trader);

/** Price history: breaches and recoveries of several accounts, ending with traders 0 and 1 at risk. */
async function history(): Promise<void> {
  const path: [typeof ETH, string][] = [
    [ETH, '2900'], [BTC, '58000'], [ETH, '2790'], [ETH, '2950'], [BTC, '51000'], [BTC, '59000'],
    [ETH, '2450'], [ETH, '3100'], [BTC, '61000'], [ETH, '2805'], [BTC, '52000'], [ETH, '2800'],
  ];
  for (const [market, value] of path) await bench.push(market, value);
}

/** What must be equal between two watchers of the same chain: markets (volatility included), verdicts, episodes. */
function stateOf(watcher: ChainWatcher) {
  const session = watcher.session();
  if (session === undefined) throw new Error('the watcher does not lead');
  return {
    markets: [ETH, BTC].map((market) => session.index.marketState(market)),
    atRisk: session.index.atRiskAccounts().sort(),
    episodes: everyone.map((account) => [account, session.episodes.get(account)?.episode, session.episodes.get(account)?.open]),
    checkpoint: watcher.status().checkpoint,
  };
}

async function neverStopped(): Promise<ChainWatcher> {
  await registerChains(reference.ledger.db, [{ chainId: bench.chain.chainId, key: bench.chain.key, lzEid: bench.chain.lzEid, wormholeChainId: bench.chain.wormholeChainId }]);
  await reference.ledger.db.delete(shortfalls).where(eq(shortfalls.chainId, bench.chain.chainId));
  await reference.ledger.db.delete(watcherCheckpoints).where(eq(watcherCheckpoints.chainId, bench.chain.chainId));
  const watcher = bench.watch({ queues: bench.queues(), ledger: reference.ledger.db });
  await caughtUp(bench, watcher);
  return watcher;
}

describe('restarts', () => {
  it('a watcher killed mid-backfill resumes from its checkpoint and reaches the state of one that never stopped', async () => {
    await history();
    const proxy = new RpcProxy(bench.chain.rpcUrl);
    const url = await proxy.start();
    try {
      const queues = bench.queues();
      const client = rpcClient({ chainId: bench.chain.chainId, rpcUrls: [url], retries: 0, timeoutMs: 2_000 });
      const first = bench.watch({ queues, client, follow: { stepBlocks: 3n } });
      const head = await bench.head();
      await until('the first watcher is half way', () => (first.status().checkpoint?.number ?? 0n) * 2n >= head);
      // Killed: its RPC goes dead in the middle of whatever step it is in, then it is stopped.
      proxy.policy = () => ({ status: 503, body: { error: { code: -32603, message: 'gone' } } });
      await until('the first watcher fails a step', () => first.status().lastError !== undefined);
      await first.stop();
      const stoppedAt = (await loadCheckpoint(bench.ledger.db, bench.chain.chainId))?.number;
      expect(stoppedAt).toBeDefined();
      expect((stoppedAt ?? head) < head).toBe(true);
      expect(await bench.episodes()).toEqual([]); // a backfill reports nothing

      const second = bench.watch({ queues, follow: { stepBlocks: 3n } });
      await caughtUp(bench, second);
      await expectIndexMatchesViews(bench, second);
      const other = await neverStopped();
      expect(stateOf(second)).toEqual(stateOf(other));
      expect(stateOf(second).atRisk).toEqual([trader(0), trader(1)].sort());
      expect([...(await shortfallJobs(queues)).values()].map((job) => [job.account, job.episode]).sort()).toEqual([
        [trader(0), '1'],
        [trader(1), '1'],
      ].sort());
    } finally {
      await proxy.stop();
    }
  });

  it('a watcher restarted after the chain moved on closes and opens what changed meanwhile, and re-queues nothing twice', async () => {
    const other = await neverStopped();
    const queues = bench.queues();
    const first = bench.watch({ queues });
    await caughtUp(bench, first);
    await bench.push(ETH, '2800');
    await caughtUp(bench, first);
    await first.stop();

    await bench.push(ETH, '2950'); // trader 0 recovers while this one is down
    await bench.push(BTC, '52000'); // trader 1 breaches
    const second = bench.watch({ queues });
    await caughtUp(bench, second);
    await caughtUp(bench, other);
    expect((await bench.episodes()).map((e) => [e.account, e.episode, e.status, e.cause])).toEqual(
      [
        [trader(0), 1n, 'closed', 'recovered'],
        [trader(1), 1n, 'open', undefined],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect([...(await shortfallJobs(queues)).values()].map((job) => job.account)).toEqual([trader(1)]);
    await expectIndexMatchesViews(bench, second);
    expect(stateOf(second)).toEqual(stateOf(other));
  });

  it('an episode committed to the ledger but never queued (Redis down, then a crash) is queued on restart', async () => {
    const queues = bench.queues();
    const real = orchestratorSink(queues);
    const refused: ShortfallReport[] = [];
    const down: ShortfallSink = {
      reportShortfall: async (report) => {
        refused.push(report);
        throw new Error('Redis is down');
      },
      withdrawShortfall: (id) => real.withdrawShortfall(id),
      reviewShortfall: (id, cause) => real.reviewShortfall(id, cause),
    };
    const first = bench.watch({ queues, sink: down });
    await caughtUp(bench, first);
    await bench.push(ETH, '2800');
    await until('the report was refused', () => refused.length > 0);
    expect(first.status().pendingReports).toBe(1);
    await first.stop();
    expect(await bench.openAccounts()).toEqual([trader(0)]);
    expect(await shortfallJobs(queues)).toEqual(new Map());

    const second = bench.watch({ queues });
    await caughtUp(bench, second);
    const jobs = [...(await shortfallJobs(queues)).values()];
    expect(jobs.map((job) => [job.account, job.episode])).toEqual([[trader(0), '1']]);
    expect((await bench.episodes()).map((e) => [e.account, e.episode, e.status])).toEqual([[trader(0), 1n, 'open']]);
    const accounts: Address[] = jobs.map((job) => job.account as Address);
    expect(accounts).toEqual(await second.session()?.index.atRiskAccounts());
  });
});
