/** Detection: a push that breaches is reported in its own block; recoveries close episodes; stale feeds; forecast. */
import { beforeEach, describe, expect, it } from 'vitest';
import { jobId } from '../../relayer/orchestrator/queues.js';
import { shortfallIdOfReport } from '../../relayer/orchestrator/shortfall-report.js';
import { riskConfig } from '../../relayer/risk/index.js';
import { atRiskByViews, BTC, caughtUp, ETH, sharedBench, shortfallJobs, trader, until, type WatcherBench } from './support.js';

const shared = sharedBench();
let bench: WatcherBench;
beforeEach(() => {
  bench = shared();
});

describe('detection', () => {
  it('reports a price push that makes an account liquidatable in the block that mined it, with the chain’s numbers', async () => {
    const queues = bench.queues();
    const watcher = bench.watch({ queues });
    await caughtUp(bench, watcher);
    expect(watcher.status()).toMatchObject({ leader: true, accounts: 4, atRisk: 0, openEpisodes: 0 });
    expect(await shortfallJobs(queues)).toEqual(new Map());

    const block = await bench.push(ETH, '2800');
    await until('a shortfall job is queued', async () => (await shortfallJobs(queues)).size > 0);
    const jobs = [...(await shortfallJobs(queues)).values()];
    expect(jobs.map((job) => job.account)).toEqual([trader(0)]);
    const [report] = jobs;
    // Detected in the push's own block: nothing else was mined since.
    expect(report?.detectedBlock).toBe(block.toString());
    expect(await bench.head()).toBe(block);

    const view = await bench.accountView(trader(0));
    expect(view.equity).toBeLessThan(BigInt(view.maintenanceMargin)); // liquidatable on chain
    expect(report).toMatchObject({ chainId: bench.chain.chainId, episode: '1', reason: 'breach', equity: view.equity.toString(), maintenance: view.maintenanceMargin.toString() });
    // What restores E >= 1.2 * MM (m_eff = m here), to within the roundings of E and MM.
    const required = BigInt(report?.requiredAmount ?? '0');
    const target = (BigInt(view.maintenanceMargin) * 12n) / 10n;
    expect(view.equity + required - target).toBeGreaterThanOrEqual(-1n);
    expect(view.equity + required - target).toBeLessThanOrEqual(2n);
    // And market by market: ETH's m_eff (1 + target) = 5% x 1.2, what the closed loop's snapshot takes.
    expect(report?.targetFractions).toEqual({ [ETH.toLowerCase()]: 0.06 });
    expect(await bench.episodes()).toEqual([{ account: trader(0), episode: 1n, status: 'open', cause: undefined, reason: 'breach' }]);
  });

  it('closes the episode when the account recovers, withdraws its unclaimed job, and opens the next on a new breach', async () => {
    const queues = bench.queues();
    const watcher = bench.watch({ queues });
    await caughtUp(bench, watcher);
    await bench.push(ETH, '2800');
    await caughtUp(bench, watcher);
    const [first] = [...(await shortfallJobs(queues)).values()];
    expect(first?.episode).toBe('1');

    await bench.push(ETH, '2950');
    await caughtUp(bench, watcher);
    expect(await bench.episodes()).toEqual([{ account: trader(0), episode: 1n, status: 'closed', cause: 'recovered', reason: 'breach' }]);
    // Nobody had taken the job: the recovery took it back.
    expect(await shortfallJobs(queues)).toEqual(new Map());

    await bench.push(ETH, '2790');
    await caughtUp(bench, watcher);
    const jobs = [...(await shortfallJobs(queues)).entries()];
    expect(jobs.map(([, job]) => [job.account, job.episode])).toEqual([[trader(0), '2']]);
    // One episode, one job: its id is derived from (chain, engine, account, episode).
    for (const [id, job] of jobs) expect(id).toBe(jobId('shortfall', shortfallIdOfReport(job)));
    expect((await bench.episodes()).map((e) => [e.episode, e.status])).toEqual([
      [1n, 'closed'],
      [2n, 'open'],
    ]);
  });

  it('reports cross-margin accounts by their combined health, and each account once however many pushes see it', async () => {
    const queues = bench.queues();
    const watcher = bench.watch({ queues });
    await caughtUp(bench, watcher);
    // ETH down hurts trader 3's long; BTC up hurts its short as well: together past warn.
    await bench.push(ETH, '2500');
    await bench.push(BTC, '63000');
    await bench.push(ETH, '2400');
    await caughtUp(bench, watcher);
    const expected = await atRiskByViews(bench, [0, 1, 2, 3].map(trader));
    expect(expected).toContain(trader(3));
    const jobs = [...(await shortfallJobs(queues)).values()];
    expect(jobs.map((job) => job.account).sort()).toEqual(expected);
    expect(jobs.every((job) => job.episode === '1')).toBe(true);
  });

  it('with confirmations, acts on a push only once it is that deep, and dates the report by the push block', async () => {
    const queues = bench.queues();
    const watcher = bench.watch({ queues, chain: bench.watched({ confirmations: 2 }) });
    const head = await bench.head();
    await until('the watcher is two blocks behind the head', () => watcher.status().checkpoint?.number === head - 2n);
    const block = await bench.push(ETH, '2800');
    await bench.control.mine({ blocks: 1 });
    await until('the watcher reaches the block before the push', () => watcher.status().checkpoint?.number === block - 1n);
    expect(await shortfallJobs(queues)).toEqual(new Map());
    await bench.control.mine({ blocks: 1 });
    await until('a shortfall job is queued', async () => (await shortfallJobs(queues)).size > 0);
    expect([...(await shortfallJobs(queues)).values()].map((job) => [job.account, job.detectedBlock])).toEqual([[trader(0), block.toString()]]);
  });

  it('holds every account of a market whose feed went stale at risk, with the reason', async () => {
    const queues = bench.queues();
    const watcher = bench.watch({ queues, chain: bench.watched({ heartbeatSeconds: 600 }) });
    await caughtUp(bench, watcher);
    expect(watcher.status().atRisk).toBe(0);
    await bench.control.increaseTime({ seconds: 601 });
    await bench.control.mine({ blocks: 1 });
    await caughtUp(bench, watcher);
    const jobs = [...(await shortfallJobs(queues)).values()];
    expect(jobs.map((job) => job.account).sort()).toEqual([0, 1, 2, 3].map(trader).sort());
    expect(new Set(jobs.map((job) => job.reason))).toEqual(new Set(['stale-price']));

    // A fresh round ends it for the holders of that market only (BTC stays stale).
    await bench.push(ETH, '3000');
    await caughtUp(bench, watcher);
    const open = await bench.openAccounts();
    expect(open).toEqual([trader(1), trader(3)].sort());
  });

  it('in proactive mode, also reports an account whose forecast breach probability exceeds the level', async () => {
    const queues = bench.queues();
    // Trader 0 at ETH 2850: E = 550 is 6.4% of its notional, above warn (5.5%); with sigma *
    // sqrt(T) ~ 1% (93% a year over an hour) its forecast requirement is ~7%: a breach within
    // the hour is more likely than 5%, while 3 sigma stays below the 5% margin (m_eff = m).
    await bench.push(ETH, '2850');
    const proactive = riskConfig({ actionSeconds: 3_600, warn: 0.1, target: 0.2, lambda: 0.99999, forecastLevel: 0.05 });
    const watcher = bench.watch({ queues, risk: proactive, volatility: { varianceFloor: 1e-12, initialVariance: 2.78e-8 } });
    await caughtUp(bench, watcher);
    const jobs = [...(await shortfallJobs(queues)).values()];
    expect(jobs.map((job) => [job.account, job.reason])).toEqual([[trader(0), 'forecast']]);
    expect(jobs[0]?.mEff).toBe(0.05);
  });
});
