/**
 * `relayer_rpc_errors_total` counts every failed RPC call: a network failure, a non-2xx answer,
 * and a JSON-RPC error inside a 200 (a node that lost the header, a rate limit), through the
 * fault proxy in front of a real anvil. An execution revert is the contract's answer and is
 * never counted, whether anvil says it (code 3) or a node wraps it under another code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnvil, type Anvil } from '../../chains/devnet/anvil.js';
import { RpcProxy, type RpcPolicy } from '../../chains/devnet/rpc-proxy.js';
import { rpcErrorAnswers } from '../../chains/rpc-errors.js';
import { rpcClient } from '../../chains/watch/rpc-client.js';
import type { LedgerDatabase } from '../../db/index.js';
import { createNodeMetrics, type NodeMetrics } from '../../relayer/metrics/node-metrics.js';

const CHAIN_ID = 31_977;
/** Init code that reverts with empty data: PUSH1 0 PUSH1 0 REVERT. */
const REVERTING_INIT_CODE = '0x60006000fd';

let anvil: Anvil;
let metrics: NodeMetrics;
const proxies: RpcProxy[] = [];

beforeAll(async () => {
  anvil = await startAnvil({ chainId: CHAIN_ID });
  // Only the RPC counter is read here: no scrape, so the ledger gauges never query.
  metrics = createNodeMetrics({ ledger: {} as LedgerDatabase, defaults: false, chainKeys: new Map([[CHAIN_ID, 'alpha']]) });
});

afterAll(async () => {
  metrics?.close();
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  await anvil?.stop();
});

async function clientThrough(policy: RpcPolicy) {
  const proxy = new RpcProxy(anvil.rpcUrl, policy);
  proxies.push(proxy);
  const url = await proxy.start();
  return { proxy, client: rpcClient({ chainId: CHAIN_ID, rpcUrls: [url], retries: 0 }) };
}

async function counted(): Promise<number> {
  const { values } = await metrics.rpcErrors.get();
  return values.find((value) => value.labels.chain === 'alpha')?.value ?? 0;
}

/** How much the counter grew while `call` ran (its own failure swallowed). */
async function errorsDuring(call: () => Promise<unknown>): Promise<number> {
  const before = await counted();
  await call().catch(() => undefined);
  return (await counted()) - before;
}

describe('relayer_rpc_errors_total', () => {
  it('counts a JSON-RPC error in a 200 answer: header not found, rate limited, internal error', async () => {
    for (const [code, message] of [
      [-32000, 'header not found'],
      [-32005, 'rate limit exceeded'],
      [-32603, 'Internal error'],
    ] as const) {
      const { client, proxy } = await clientThrough((request) => (request.method === 'eth_blockNumber' ? { fault: 'rpc-error', code, message } : 'forward'));
      expect(await errorsDuring(() => client.getBlockNumber({ cacheTime: 0 })), `${code} ${message}`).toBe(1);
      expect(proxy.faults.get('rpc-error')).toBe(1);
    }
  });

  it('still counts a non-2xx answer and a network failure', async () => {
    const { client } = await clientThrough(() => ({ fault: 'status', status: 503 }));
    expect(await errorsDuring(() => client.getBlockNumber({ cacheTime: 0 }))).toBe(1);
    const { client: reset } = await clientThrough(() => ({ fault: 'reset' }));
    expect(await errorsDuring(() => reset.getBlockNumber({ cacheTime: 0 }))).toBe(1);
  });

  it('does not count an answer, nor a real revert from anvil (code 3)', async () => {
    const { client } = await clientThrough(() => 'forward');
    expect(await errorsDuring(() => client.getBlockNumber({ cacheTime: 0 }))).toBe(0);
    const reverted = await client.call({ data: REVERTING_INIT_CODE }).catch((error: unknown) => error);
    expect(String(reverted)).toMatch(/revert/i);
    expect(await errorsDuring(() => client.call({ data: REVERTING_INIT_CODE }))).toBe(0);
  });

  it('does not count a revert a node wraps under another code, by its message or its revert data', async () => {
    const data = '0x08c379a0'.padEnd(10 + 64 * 3, '0');
    for (const error of [
      { code: -32000, message: 'execution reverted: not enough margin' },
      { code: -32603, message: 'Internal error', data },
    ]) {
      const { client } = await clientThrough((request) => (request.method === 'eth_call' ? { status: 200, body: { error } } : 'forward'));
      expect(await errorsDuring(() => client.call({ data: REVERTING_INIT_CODE })), error.message).toBe(0);
    }
  });
});

describe('rpcErrorAnswers', () => {
  it('counts the error answers of a batch that are no reverts', () => {
    const batch = JSON.stringify([
      { jsonrpc: '2.0', id: 1, result: '0x1' },
      { jsonrpc: '2.0', id: 2, error: { code: -32005, message: 'rate limited' } },
      { jsonrpc: '2.0', id: 3, error: { code: 3, message: 'execution reverted', data: '0x' } },
      { jsonrpc: '2.0', id: 4, error: { code: -32000, message: 'header not found' } },
    ]);
    expect(rpcErrorAnswers(batch)).toBe(2);
    expect(rpcErrorAnswers('{"jsonrpc":"2.0","id":1,"result":"0x1"}')).toBe(0);
    expect(rpcErrorAnswers('<html>502</html>')).toBe(0);
  });
});
