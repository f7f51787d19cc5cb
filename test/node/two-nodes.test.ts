import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legEvents } from '../../db/index.js';
import { resolveNodeConfig } from '../../relayer/node/config.js';
import { nodeConfigForDevnet } from '../../relayer/node/devnet-config.js';
import { startNode, type RunningNode } from '../../relayer/node/start-node.js';
import type { ShortfallReport } from '../../relayer/orchestrator/shortfall-report.js';
import { usd } from '../../chains/protocol/units.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { createTestDatabase, type TestDatabase } from '../db/support/test-database.js';

let h: ProtocolHarness;
let database: TestDatabase;
const nodes: RunningNode[] = [];

beforeAll(async () => {
  h = await ProtocolHarness.start();
  database = await createTestDatabase();
  await h.seed({
    accounts: Array.from({ length: 12 }, (_, n) => [
      { trader: n, chain: 'alpha', deposit: '100' },
      { trader: n, chain: n % 2 === 0 ? 'beta' : 'gamma', deposit: '500', crossChainConsent: true },
    ]).flat(),
  });
});

afterAll(async () => {
  for (const node of nodes) await node.stop();
  await database?.drop();
  await h?.stop();
});

const waitFor = async (check: () => Promise<boolean> | boolean, what: string) => {
  for (let i = 0; i < 300; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('two nodes against one Redis and one Postgres', () => {
  it('share the work, and each chain has exactly one watcher, taken over when its node stops', async () => {
    const prefix = `two-${randomBytes(4).toString('hex')}`;
    for (const nodeId of ['node-a', 'node-b']) {
      const { config, env } = nodeConfigForDevnet({ manifest: h.manifest, redisPrefix: prefix, nodeId });
      nodes.push(await startNode(await resolveNodeConfig({ value: config, source: nodeId, env: { ...env, DATABASE_URL: database.url } })));
    }
    const [a, b] = nodes as [RunningNode, RunningNode];
    const leaders = () => nodes.flatMap((node) => node.watchers.filter((w) => w.status().leader).map((w) => `${node.config.node.id}:${w.status().chain}`));
    await waitFor(() => leaders().length === 3, 'a leader on every chain');
    const chainsLed = leaders().map((l) => l.split(':')[1]).sort();
    expect(chainsLed).toEqual(['alpha', 'beta', 'gamma']);

    // Work from both nodes' queues: reports arrive through either; any worker may take them.
    // As a watcher reports them: the engine's equity and maintenance now (the node takes what moves since from the engine).
    const views = await Promise.all(Array.from({ length: 12 }, (_, n) => h.account(h.alpha, traderAddress(n))));
    const reports: ShortfallReport[] = views.map((view, n) => ({
      chainId: h.alpha.chainId,
      engine: h.alpha.contracts.marginEngine,
      account: traderAddress(n),
      episode: '1',
      reason: 'breach',
      equity: String(view.equity),
      maintenance: String(view.maintenanceMargin),
      requiredAmount: String(usd('40')),
      mEff: 0.05,
      detectedBlock: '1',
      detectedAt: new Date().toISOString(),
    }));
    await Promise.all(reports.map((report, n) => (n % 2 === 0 ? a : b).orchestrator.reportShortfall(report)));
    await waitFor(async () => (await a.ledger.db.select().from(legEvents)).filter((e) => e.toStatus === 'credited').length === 12, 'every leg credited');
    const actors = new Set((await a.ledger.db.select().from(legEvents)).filter((e) => e.toStatus === 'sent').map((e) => e.actor));
    expect([...actors].sort()).toEqual(['node-a', 'node-b']);

    // The node leading a chain stops: the other takes the chain over within the lease's TTL.
    const [led] = leaders();
    const stopping = nodes.find((node) => node.config.node.id === led?.split(':')[0]);
    const other = nodes.find((node) => node !== stopping);
    if (!stopping || !other) throw new Error('no leader');
    await stopping.stop();
    nodes.splice(nodes.indexOf(stopping), 1);
    await waitFor(() => other.watchers.every((w) => w.status().leader), 'the other node to lead every chain');
  }, 120_000);
});
