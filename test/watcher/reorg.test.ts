/** Reorgs: what an orphaned block reported is taken back, what the canonical chain has stays. */
import { beforeEach, describe, expect, it } from 'vitest';
import { marketPriceFeedAbi } from '../../chains/contracts/out/MarketPriceFeed.js';
import { price } from '../../chains/protocol/units.js';
import { atRiskByViews, BTC, caughtUp, ETH, expectIndexMatchesViews, RecordingLog, sharedBench, shortfallJobs, trader, until, type WatcherBench } from './support.js';

const shared = sharedBench();
let bench: WatcherBench;
beforeEach(() => {
  bench = shared();
});

const everyone = [0, 1, 2, 3].map(trader);

describe('reorgs', () => {
  it('a reorg that removes the push takes its report back, keeps the episodes before the fork, and invents nothing', async () => {
    const queues = bench.queues();
    const watcher = bench.watch({ queues });
    await caughtUp(bench, watcher);
    await bench.push(BTC, '52000'); // trader 1 breaches before the fork
    await caughtUp(bench, watcher);
    const forkBlock = await bench.head();
    const snapshot = await bench.control.snapshot();

    const orphanedBlock = await bench.push(ETH, '2800'); // trader 0 breaches on the branch to be orphaned
    await caughtUp(bench, watcher);
    expect((await bench.openAccounts()).sort()).toEqual([trader(0), trader(1)].sort());
    expect([...(await shortfallJobs(queues)).values()].find((job) => job.account === trader(0))?.detectedBlock).toBe(orphanedBlock.toString());

    await bench.control.revert({ id: snapshot }); // the chain is one block shorter now
    await until('the watcher rolls back to the fork', () => watcher.status().checkpoint?.number === forkBlock);
    await bench.control.mine({ blocks: 2 }); // the new branch: no push
    await caughtUp(bench, watcher);

    expect(await bench.episodes()).toEqual([
      { account: trader(0), episode: 1n, status: 'closed', cause: 'reorg', reason: 'breach' },
      { account: trader(1), episode: 1n, status: 'open', cause: undefined, reason: 'breach' },
    ].sort((a, b) => a.account.localeCompare(b.account)));
    // The orphaned report was not taken by anyone yet: it is gone from the queue.
    expect([...(await shortfallJobs(queues)).values()].map((job) => job.account)).toEqual([trader(1)]);
    expect(await bench.openAccounts()).toEqual(await atRiskByViews(bench, everyone));
    expect(watcher.status().atRisk).toBe(1);
    await expectIndexMatchesViews(bench, watcher);
  });

  it('when the new branch mines the same breach again, the episode simply continues', async () => {
    const queues = bench.queues();
    const log = new RecordingLog();
    const watcher = bench.watch({ queues, log });
    await caughtUp(bench, watcher);
    const snapshot = await bench.control.snapshot();
    const orphanedBlock = await bench.push(ETH, '2800');
    await caughtUp(bench, watcher);
    const { timestamp, hash: orphanedHash } = await bench.client.getBlock({ blockNumber: orphanedBlock });

    await bench.control.revert({ id: snapshot });
    // The same push in a block at the same height with another timestamp: another hash.
    await bench.control.setAutomine(false);
    try {
      const hash = await bench.owner.wallet.writeContract({ address: bench.feed(ETH), abi: marketPriceFeedAbi, functionName: 'pushRound', args: [price('2800')] });
      await bench.control.setNextBlockTimestamp({ timestamp: timestamp + 7n });
      await bench.control.mine({ blocks: 1 });
      const receipt = await bench.client.waitForTransactionReceipt({ hash });
      expect(receipt.blockNumber).toBe(orphanedBlock);
      expect(receipt.blockHash).not.toBe(orphanedHash);
    } finally {
      await bench.control.setAutomine(true);
    }
    await bench.control.mine({ blocks: 1 });
    await caughtUp(bench, watcher);

    expect(log.messages('warn')).toContain('reorg: rolling the index back');
    expect(await bench.episodes()).toEqual([{ account: trader(0), episode: 1n, status: 'open', cause: undefined, reason: 'breach' }]);
    expect([...(await shortfallJobs(queues)).values()].map((job) => [job.account, job.episode])).toEqual([[trader(0), '1']]);
  });

  it('a reorg replaces a recovery with a deeper fall: the account stays in its episode, nobody else is reported', async () => {
    const queues = bench.queues();
    const watcher = bench.watch({ queues });
    await caughtUp(bench, watcher);
    await bench.push(ETH, '2800');
    await caughtUp(bench, watcher);
    const snapshot = await bench.control.snapshot();
    await bench.push(ETH, '2990'); // recovers on the branch to be orphaned
    await bench.push(BTC, '61000');
    await caughtUp(bench, watcher);
    expect(await bench.episodes()).toEqual([{ account: trader(0), episode: 1n, status: 'closed', cause: 'recovered', reason: 'breach' }]);

    await bench.control.revert({ id: snapshot });
    await bench.push(ETH, '2700');
    await bench.push(ETH, '2650');
    await bench.push(ETH, '2640'); // longer than the orphaned branch
    await caughtUp(bench, watcher);
    const expected = await atRiskByViews(bench, everyone);
    expect(await bench.openAccounts()).toEqual(expected);
    await expectIndexMatchesViews(bench, watcher);
    // Episode 1 closed on the orphaned branch (that close stands: it was true of the chain then);
    // the account at risk again on the canonical one is episode 2, reported once.
    expect((await bench.episodes()).filter((e) => e.account === trader(0)).map((e) => [e.episode, e.status])).toEqual([
      [1n, 'closed'],
      [2n, 'open'],
    ]);
    expect([...(await shortfallJobs(queues)).values()].map((job) => [job.account, job.episode]).sort()).toEqual(expected.map((account) => [account, account === trader(0) ? '2' : '1']).sort());
  });

  it('a reorg while the watcher was down is found on restart: what the orphaned blocks reported is taken back', async () => {
    const queues = bench.queues();
    const first = bench.watch({ queues });
    await caughtUp(bench, first);
    const snapshot = await bench.control.snapshot();
    await bench.push(ETH, '2800');
    await caughtUp(bench, first);
    await first.stop();
    expect(await bench.openAccounts()).toEqual([trader(0)]);

    await bench.control.revert({ id: snapshot });
    await bench.push(BTC, '52000'); // the new branch, longer than the old one: trader 1 breaches instead
    await bench.push(BTC, '51900');
    const log = new RecordingLog();
    const second = bench.watch({ queues, log });
    await caughtUp(bench, second);

    expect(log.messages('warn')).toContain('reorg: rolling the index back');
    expect((await bench.episodes()).map((e) => [e.account, e.episode, e.status, e.cause])).toEqual(
      [
        [trader(0), 1n, 'closed', 'reorg'],
        [trader(1), 1n, 'open', undefined],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect([...(await shortfallJobs(queues)).values()].map((job) => job.account)).toEqual([trader(1)]);
    expect(await bench.openAccounts()).toEqual(await atRiskByViews(bench, everyone));
    await expectIndexMatchesViews(bench, second);
  });
});
