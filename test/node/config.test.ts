import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../chains/devnet/manifest.js';
import { resolveNodeConfig, type NodeConfigFile } from '../../relayer/node/config.js';
import { nodeConfigForDevnet } from '../../relayer/node/devnet-config.js';
import { ConfigError } from '../../relayer/errors.js';

const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
const contracts = Object.fromEntries(['vault', 'marginEngine', 'collateralToken', 'lzEndpoint', 'lzEndpointView', 'lzReceiveUln302', 'lzExecutor', 'lzDvn', 'wormholeCore'].map((name, i) => [name, address(i + 1)]));
const chain = (n: number) => ({ key: ['alpha', 'beta'][n] ?? 'x', chainId: 31001 + n, rpcUrls: [`http://127.0.0.1:${8545 + n}`], lzEid: 30001 + n, wormholeChainId: [2, 4][n] ?? 6, contracts });
const valid: NodeConfigFile = { chains: [chain(0), chain(1)] } as NodeConfigFile;
const KEY = `0x${'11'.repeat(32)}`;
const env = { RELAYER_PRIVATE_KEY: KEY, RELAYER_DVN_PRIVATE_KEY: `0x${'22'.repeat(32)}` };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'node-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the node config', () => {
  it('fills defaults and takes secrets from the environment only', async () => {
    const config = await resolveNodeConfig({ value: valid, source: 'node.json', env });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.chains[0]?.confirmations).toBe(1);
    expect(config.queues.concurrency).toEqual({ shortfalls: 64, plans: 32, legs: 16, deliveries: 16, reconcile: 1, sweeps: 1, unwinds: 1 });
    expect(config.unwind).toEqual({ enabled: false, everyMs: 5_000, minTradeUsd: 10 });
    // No auctions unless asked: a deployment without takers must not start any.
    expect(config.auction).toEqual({ enabled: false, takerMargin: 0.01 });
    const tuned = await resolveNodeConfig({ value: { ...valid, queues: { concurrency: { legs: 4 } } }, source: 'node.json', env });
    expect(tuned.queues.concurrency).toMatchObject({ legs: 4, shortfalls: 64 });
    expect(config.secrets.relayerKey).toBe(KEY);
    expect(config.secrets.databaseUrl).toBeUndefined();
  });

  it('reads a key from a key file', async () => {
    const file = join(dir, 'relayer.key');
    await writeFile(file, `${KEY}\n`);
    const config = await resolveNodeConfig({ value: valid, source: 'node.json', env: { ...env, RELAYER_PRIVATE_KEY: undefined, RELAYER_PRIVATE_KEY_FILE: file } });
    expect(config.secrets.relayerKey).toBe(KEY);
  });

  it.each([
    [{ chains: [] }, env, 'node.json: chains: must list at least one chain'],
    [{ chains: [{ ...chain(0), rpcUrls: ['ftp://x'] }] }, env, 'node.json: chains[0].rpcUrls[0]: must be a URL (http: or https:)'],
    [{ chains: [{ ...chain(0), rpcUrls: [] }] }, env, 'node.json: chains[0].rpcUrls: must list at least one RPC URL'],
    [{ chains: [chain(0), { ...chain(1), rpcUrls: ['http://127.0.0.1:8546', 'not a url'] }] }, env, 'node.json: chains[1].rpcUrls[1]: must be a URL (http: or https:)'],
    [{ chains: [{ ...chain(0), confirmations: -1 }] }, env, 'node.json: chains[0].confirmations: must be 0 or more'],
    [{ chains: [{ ...chain(0), confirmations: 1.5 }] }, env, 'node.json: chains[0].confirmations: must be a whole number of blocks'],
    [{ chains: [chain(0), { ...chain(1), chainId: 31001 }] }, env, 'node.json: chains[1].chainId: duplicate chainId 31001'],
    [{ chains: [{ ...chain(0), contracts: { ...contracts, vault: '0x12' } }] }, env, 'node.json: chains[0].contracts.vault: must be a 0x-prefixed 20-byte hex address'],
    [{ ...valid, redis: { url: 'http://127.0.0.1:6379' } }, env, 'node.json: redis.url: must be a URL (redis: or rediss:)'],
    [{ ...valid, http: { port: 70000 } }, env, 'node.json: http.port'],
    [{ ...valid, queues: { concurrency: { plans: 0 } } }, env, 'node.json: queues.concurrency.plans: must be at least 1'],
    [{ ...valid, messaging: { wormhole: { vaaSource: 'wormholescan' } } }, env, 'node.json: messaging.wormhole.apiUrl'],
    [{ ...valid, unwind: { minTradeUsd: 0 } }, env, 'node.json: unwind.minTradeUsd'],
    [{ ...valid, auction: { enabled: true, takerMargin: 1 } }, env, 'node.json: auction.takerMargin: must be in [0, 1)'],
    [{ ...valid, auction: { enabled: 'yes' } }, env, 'node.json: auction.enabled'],
    [valid, { ...env, RELAYER_PRIVATE_KEY: undefined }, 'RELAYER_PRIVATE_KEY is not set'],
    [valid, { ...env, RELAYER_PRIVATE_KEY: '0x1234' }, 'RELAYER_PRIVATE_KEY must be a 0x-prefixed 32-byte hex private key'],
    [valid, { ...env, RELAYER_DVN_PRIVATE_KEY_FILE: '/no/such/key' }, 'RELAYER_DVN_PRIVATE_KEY_FILE: cannot read /no/such/key: ENOENT'],
    [valid, { ...env, DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL must be a postgres:// or postgresql:// URL'],
  ])('refuses %j with one message naming the field', async (value, environment, message) => {
    const attempt = resolveNodeConfig({ value, source: 'node.json', env: environment });
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(resolveNodeConfig({ value, source: 'node.json', env: environment })).rejects.toThrow(message);
  });

  it.each([
    // The operator's typo: `confirmation` for `confirmations` ran with the default, 1.
    [{ chains: [{ ...chain(0), confirmation: 12 }] }, 'node.json: chains[0].confirmation: unknown key'],
    [{ ...valid, reconcil: { everyMs: 1_000 } }, 'node.json: reconcil: unknown key'],
    [{ ...valid, node: { id: 'a', name: 'b', role: 'c' } }, 'node.json: node.name, node.role: unknown keys'],
    [{ chains: [chain(0), { ...chain(1), contracts: { ...contracts, vaults: address(99) } }] }, 'node.json: chains[1].contracts.vaults: unknown key'],
    [{ chains: [{ ...chain(0), markets: [{ symbol: 'ETH-USD', marketId: `0x${'ab'.repeat(32)}`, priceFeed: address(20), feed: address(21) }] }] }, 'node.json: chains[0].markets[0].feed: unknown key'],
    [{ ...valid, queues: { concurrency: { legs: 4, deliveris: 2 } } }, 'node.json: queues.concurrency.deliveris: unknown key'],
    [{ ...valid, messaging: { wormhole: { vaaSource: 'devnet-guardian', apiUrl: 'https://api.wormholescan.io' } } }, 'node.json: messaging.wormhole.apiUrl: unknown key'],
    [{ ...valid, planner: { latencySeconds: { layerzero: 30, wormhole: 60, ccip: 10 } } }, 'node.json: planner.latencySeconds.ccip: unknown key'],
    [{ ...valid, watchers: { pollIntervalMS: 100 } }, 'node.json: watchers.pollIntervalMS: unknown key'],
  ])('refuses the unknown key in %j, naming where it sits', async (value, message) => {
    const error = await resolveNodeConfig({ value, source: 'node.json', env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a field of the node config`));
  });

  it('takes the devnet’s own config, every key of it known', async () => {
    const manifestChain = (n: number) => ({
      ...chain(n),
      rpcUrl: `http://127.0.0.1:${8545 + n}`,
      lzDvnVid: 1 + n,
      contracts: { ...contracts, lzSendUln302: address(30), lzPriceFeed: address(31), messageProbe: address(32) },
      markets: [{ symbol: 'ETH-USD', marketId: `0x${'ab'.repeat(32)}`, priceFeed: address(20 + n) }],
    });
    const { config, env: devnetEnv } = nodeConfigForDevnet({ manifest: parseManifest({ chains: [manifestChain(0), manifestChain(1)] }), redisPrefix: 'devnet-config-test', reconcileEveryMs: 1_000 });
    const resolved = await resolveNodeConfig({ value: config, source: 'devnet', env: devnetEnv });
    expect(resolved.chains.map((c) => [c.key, c.confirmations, c.lzDvnVid, c.markets.length])).toEqual([
      ['alpha', 0, 1, 1],
      ['beta', 0, 2, 1],
    ]);
    expect(resolved.reconcile.everyMs).toBe(1_000);
  });

  it('never puts a key in an error message', async () => {
    const error = await resolveNodeConfig({ value: valid, source: 'node.json', env: { ...env, RELAYER_PRIVATE_KEY: `0x${'33'.repeat(31)}` } }).catch((e: unknown) => e);
    expect(String(error)).not.toContain('33'.repeat(31));
  });
});
