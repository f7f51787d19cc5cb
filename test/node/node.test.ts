import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usd } from '../../chains/protocol/units.js';
import { resolveNodeConfig } from '../../relayer/node/config.js';
import { nodeConfigForDevnet } from '../../relayer/node/devnet-config.js';
import { startNode, type RunningNode } from '../../relayer/node/start-node.js';
import { openQueues } from '../../relayer/orchestrator/queues.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import type { ShortfallReport } from '../../relayer/orchestrator/shortfall-report.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { createTestDatabase, type TestDatabase } from '../db/support/test-database.js';
import { runCli } from '../cli/run-cli.js';

let h: ProtocolHarness;
let database: TestDatabase;
let node: RunningNode | undefined;
let dir: string;

beforeAll(async () => {
  h = await ProtocolHarness.start();
  database = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'node-'));
  await h.seed({ accounts: [{ trader: 0, chain: 'beta', deposit: '1000', crossChainConsent: true }, { trader: 0, chain: 'alpha', deposit: '500' }] });
});

afterAll(async () => {
  await node?.stop();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
  await h?.stop();
});

const prefix = () => `node-${randomBytes(4).toString('hex')}`;

describe('a node on the devnet', () => {
  it('settles a reported shortfall and answers for it over HTTP, then stops with nothing left active', async () => {
    const { config, env } = nodeConfigForDevnet({ manifest: h.manifest, redisPrefix: prefix() });
    node = await startNode(await resolveNodeConfig({ value: config, source: 'devnet', env: { ...env, DATABASE_URL: database.url } }));
    // As a watcher reports it: the engine's equity and maintenance now (the node takes what moves since from the engine).
    const view = await h.account(h.alpha, traderAddress(0));
    const report: ShortfallReport = {
      chainId: h.alpha.chainId,
      engine: h.alpha.contracts.marginEngine,
      account: traderAddress(0),
      episode: '1',
      reason: 'breach',
      equity: String(view.equity),
      maintenance: String(view.maintenanceMargin),
      requiredAmount: String(usd('120')),
      mEff: 0.05,
      detectedBlock: '1',
      detectedAt: new Date().toISOString(),
    };
    const shortfallId = await node.orchestrator.reportShortfall(report);
    let settlementId: string | undefined;
    let status: string | undefined;
    for (let i = 0; i < 400 && status !== 'settled'; i += 1) {
      const shortfall = (await (await fetch(`${node.url}/v1/shortfalls/${shortfallId}`)).json()) as { settlements?: string[] };
      settlementId = shortfall.settlements?.[0];
      if (settlementId) status = ((await (await fetch(`${node.url}/v1/settlements/${settlementId}`)).json()) as { status: string }).status;
      if (status !== 'settled') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe('settled');
    const settlement = (await (await fetch(`${node.url}/v1/settlements/${settlementId}`)).json()) as { legs: { amount: string; status: string; sourceChainId: number }[] };
    expect(settlement.legs).toEqual([expect.objectContaining({ amount: String(usd('120')), status: 'credited', sourceChainId: h.beta.chainId })]);
    const ready = await fetch(`${node.url}/readyz`);
    expect(ready.status).toBe(200);
    const checks = ((await ready.json()) as { checks: Record<string, { ok: boolean }> }).checks;
    expect(Object.keys(checks).sort()).toEqual(['postgres', 'redis', 'rpc:alpha', 'rpc:beta', 'rpc:gamma', 'watcher:alpha', 'watcher:beta', 'watcher:gamma']);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toContain('relayer_legs{status="credited",transport=');

    const url = node.url;
    await node.stop();
    node = undefined;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    // Looked at afresh after the stop: no job was left active.
    const connection = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const queues = openQueues({ connection, prefix: config.redis?.prefix ?? '' });
    try {
      for (const queue of Object.values(queues.byName)) expect((await queue.getJobCounts('active')).active).toBe(0);
      await Promise.all(Object.values(queues.byName).map((queue) => queue.obliterate({ force: true })));
    } finally {
      await queues.close();
      connection.disconnect();
    }
  });

  it('`relayer start` serves until SIGTERM, then drains and exits 0', async () => {
    const { config, env } = nodeConfigForDevnet({ manifest: h.manifest, redisPrefix: prefix() });
    const file = join(dir, 'node.json');
    await writeFile(file, JSON.stringify(config));
    const run = runCli(['start', '--config', file], { ...env, DATABASE_URL: database.url });
    await run.waitFor(/API at (http:\/\/[0-9.:]+)/);
    const url = /API at (http:\/\/[0-9.:]+)/.exec(run.stdout())?.[1] ?? '';
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('SIGTERM, draining');
    expect(run.stdout()).toContain('stopped');
    expect(run.stdout()).not.toContain(env.RELAYER_PRIVATE_KEY?.slice(2) ?? 'no key');
  });

  it('`relayer start` with a bad config stops with one line naming the field', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ chains: [{ key: 'alpha' }] }));
    const run = runCli(['start', '--config', file], {});
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toHaveLength(1);
    expect(run.stderr()).toMatch(/bad\.json: chains\[0\]\.chainId/);
  });
});
