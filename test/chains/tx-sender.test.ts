/**
 * The transaction sender (chains/tx-sender.ts) on one real anvil with automine off, blocks
 * mined by the test: a transaction priced below the base fee is replaced at higher fees and
 * mined exactly once (one transaction on the chain for its nonce); two senders with the same
 * key and the same Redis (two nodes) sending at once never reuse a nonce and all their
 * transactions mine; with the first RPC URL dead, reads and writes go through the second; an
 * RPC that reports the nonce used before it returns the receipt does not get the call twice.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { parseGwei, type Address, type Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collateralTokenAbi, collateralTokenBytecode } from '../../chains/contracts/out/CollateralToken.js';
import { freePort, startAnvil, type Anvil } from '../../chains/devnet/anvil.js';
import { anvilControl } from '../../chains/devnet/control.js';
import { devnetAccount } from '../../chains/devnet/keys.js';
import { RpcProxy } from '../../chains/devnet/rpc-proxy.js';
import { nextNonce, RedisNonceStore } from '../../chains/nonce-store.js';
import { Signer, type ChainEndpoint, type SignerOptions } from '../../chains/signer.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';

const CHAIN_ID = 31_990;
let anvil: Anvil;
let endpoint: ChainEndpoint;
let token: Address;
const redises: Redis[] = [];
const key = devnetAccount(7);
const control = () => anvilControl(endpoint);

const signer = (options: SignerOptions = {}, rpcUrls?: string[]) => new Signer({ ...endpoint, ...(rpcUrls ? { rpcUrls } : {}) }, key, options);
const approve = (s: Signer, amount: bigint) => s.write({ address: token, abi: collateralTokenAbi, functionName: 'approve', args: [key.address, amount], label: 'CollateralToken' });

/** Mines a block every `ms` until `work` settles (automine is off). */
async function mining<T>(work: Promise<T>, ms = 100): Promise<T> {
  let done = false;
  const miner = (async () => {
    while (!done) {
      await control().mine({ blocks: 1 });
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  })();
  try {
    return await work;
  } finally {
    done = true;
    await miner;
  }
}

/** Every transaction from the key mined in blocks `from`..head, by nonce. */
async function minedByNonce(from: bigint): Promise<Map<number, Hash[]>> {
  const client = signer().public;
  const head = await client.getBlockNumber({ cacheTime: 0 });
  const byNonce = new Map<number, Hash[]>();
  for (let n = from; n <= head; n += 1n) {
    const block = await client.getBlock({ blockNumber: n, includeTransactions: true });
    for (const tx of block.transactions) {
      if (tx.from.toLowerCase() === key.address.toLowerCase()) byNonce.set(tx.nonce, [...(byNonce.get(tx.nonce) ?? []), tx.hash]);
    }
  }
  return byNonce;
}

beforeAll(async () => {
  anvil = await startAnvil({ chainId: CHAIN_ID });
  endpoint = { chainId: CHAIN_ID, rpcUrl: anvil.rpcUrl };
  token = await signer().deploy({ name: 'CollateralToken', abi: collateralTokenAbi, bytecode: collateralTokenBytecode, args: ['Test', 'TST'] });
  await control().setAutomine(false);
});

let noncePrefix: string | undefined;

afterAll(async () => {
  const [first] = redises;
  if (first && noncePrefix) await first.del(`${noncePrefix}:nonce:${CHAIN_ID}:${key.address.toLowerCase()}`);
  for (const redis of redises) redis.disconnect();
  await anvil?.stop();
});

describe('the nonce held', () => {
  it('comes from the chain at start, follows it up, and fills a gap when nothing is pending below it', () => {
    expect(nextNonce(undefined, { mined: 4, pending: 6 })).toBe(6);
    expect(nextNonce(7, { mined: 4, pending: 6 })).toBe(7); // a lagging RPC: the held nonce wins
    expect(nextNonce(7, { mined: 9, pending: 9 })).toBe(9);
    expect(nextNonce(7, { mined: 5, pending: 5 })).toBe(5); // 5 and 6 are gone: fill the gap
  });
});

describe('a stuck transaction', () => {
  it('is replaced at higher fees and mined exactly once', async () => {
    const s = signer({ sender: { replaceAfterBlocks: 2, feeBumpPercent: 12.5, maxFeePerGas: parseGwei('5000') } });
    const from = await s.public.getBlockNumber({ cacheTime: 0 });
    const nonce = await s.public.getTransactionCount({ address: key.address, blockTag: 'pending' });
    const written = approve(s, 1n);
    while ((await s.public.getTransactionCount({ address: key.address, blockTag: 'pending' })) === nonce) await new Promise((resolve) => setTimeout(resolve, 10));
    // The next block's base fee far above what the transaction offers: it stays in the pool.
    await control().request({ method: 'anvil_setNextBlockBaseFeePerGas' as never, params: [`0x${parseGwei('500').toString(16)}`] as never });
    const receipt = await mining(written);
    expect(receipt.status).toBe('success');
    expect(s.sender?.replacements).toBeGreaterThanOrEqual(1);
    const mined = await minedByNonce(from);
    expect(mined.get(nonce)).toEqual([receipt.transactionHash]);
    expect(await s.public.readContract({ address: token, abi: collateralTokenAbi, functionName: 'allowance', args: [key.address, key.address] })).toBe(1n);
  });
});

describe('two nodes with one key and one Redis', () => {
  it('never reuse a nonce, and every transaction mines', async () => {
    const prefix = (noncePrefix = `txsender-${randomBytes(4).toString('hex')}`);
    const node = () => {
      const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
      redises.push(redis);
      return signer({ nonces: new RedisNonceStore(redis, { prefix, chainId: CHAIN_ID, address: key.address }) });
    };
    const [a, b] = [node(), node()];
    const client = a.public;
    const from = await client.getBlockNumber({ cacheTime: 0 });
    const start = await client.getTransactionCount({ address: key.address, blockTag: 'pending' });
    const writes = Array.from({ length: 16 }, (_, i) => approve(i % 2 === 0 ? a : b, BigInt(100 + i)));
    const receipts = await mining(Promise.all(writes), 200);
    expect(receipts.every((r) => r.status === 'success')).toBe(true);
    const mined = await minedByNonce(from + 1n); // blocks mined after the writes began
    const nonces = [...mined.keys()].sort((x, y) => x - y);
    expect(nonces).toEqual(Array.from({ length: 16 }, (_, i) => start + i));
    expect([...mined.values()].every((hashes) => hashes.length === 1)).toBe(true);
    expect(new Set(receipts.map((r) => r.transactionHash)).size).toBe(16);
    // Pipelined: several transactions of the 16 share a block.
    expect(new Set(receipts.map((r) => r.blockNumber)).size).toBeLessThan(16);
  });
});

describe('a receipt the RPC returns after the nonce shows used', () => {
  it('is waited for: the call is not signed again under a new nonce', async () => {
    // A load-balanced RPC (or a busy anvil): the nonce count is ahead of the receipt lookups.
    let hidden = 0;
    const proxy = new RpcProxy(anvil.rpcUrl, (request) => (request.method === 'eth_getTransactionReceipt' && (hidden += 1) <= 6 ? { status: 200, body: { result: null } } : 'forward'));
    const url = await proxy.start();
    try {
      const s = signer({}, [url]);
      const from = await s.public.getBlockNumber({ cacheTime: 0 });
      const receipt = await mining(approve(s, 7n));
      expect(receipt.status).toBe('success');
      expect(hidden).toBeGreaterThan(6);
      const mined = await minedByNonce(from + 1n);
      expect([...mined.values()].flat()).toEqual([receipt.transactionHash]);
    } finally {
      await proxy.stop();
    }
  });
});

describe('failover', () => {
  it('reads and writes through the second RPC URL when the first is dead', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const s = signer({}, [dead, anvil.rpcUrl]);
    expect(await s.public.getChainId()).toBe(CHAIN_ID);
    const receipt = await mining(approve(s, 42n));
    expect(receipt.status).toBe('success');
    expect(await s.public.readContract({ address: token, abi: collateralTokenAbi, functionName: 'allowance', args: [key.address, key.address] })).toBe(42n);
  });
});
