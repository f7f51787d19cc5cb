import { getAbiItem, parseEventLogs, type Log } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageProbeAbi } from '../../chains/contracts/out/MessageProbe.js';
import { freePort } from '../../chains/devnet/anvil.js';
import { anvilControl } from '../../chains/devnet/control.js';
import { startDevnet, type Devnet } from '../../chains/devnet/devnet.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { Signer } from '../../chains/signer.js';
import { BlockFollower, type Checkpoint, type CheckpointStore, type FollowedRange, type FollowerHandler } from '../../chains/watch/block-follower.js';
import { rpcClient } from '../../chains/watch/rpc-client.js';
import { RpcProxy } from '../../chains/devnet/rpc-proxy.js';

/** The derived state under test: the followed events, in order, and nothing else. */
class EventList implements FollowerHandler {
  events: { block: bigint; index: number; chain: number }[] = [];
  rollbacks: bigint[] = [];
  async apply(range: FollowedRange): Promise<void> {
    for (const event of parseEventLogs({ abi: messageProbeAbi, eventName: 'WormholeEmitterSet', logs: [...range.logs] })) {
      // Idempotent: a replayed range must not duplicate.
      if (this.events.some((e) => e.block === event.blockNumber && e.index === event.logIndex)) continue;
      this.events.push({ block: event.blockNumber, index: event.logIndex, chain: event.args.wormholeChainId });
    }
  }
  async rollbackTo(block: bigint): Promise<void> {
    this.rollbacks.push(block);
    this.events = this.events.filter((e) => e.block <= block);
  }
}

class MemoryStore implements CheckpointStore {
  checkpoint: Checkpoint | undefined;
  saves = 0;
  async load() {
    return this.checkpoint;
  }
  async save(checkpoint: Checkpoint | undefined) {
    this.saves += 1;
    this.checkpoint = checkpoint;
  }
}

let devnet: Devnet;
let chain: ManifestChain;
let owner: Signer;
let startBlock: bigint;
let marker = 0;

beforeAll(async () => {
  devnet = await startDevnet({ chains: 1 });
  chain = devnet.manifest.chains[0] as ManifestChain;
  owner = new Signer({ chainId: chain.chainId, rpcUrl: chain.rpcUrl }, devnetAccount(devnetRoles.relayer));
  startBlock = (await owner.public.getBlockNumber({ cacheTime: 0 })) + 1n;
});

afterAll(async () => {
  await devnet?.stop();
});

/** One event per block, each carrying a distinct marker. */
async function emit(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    marker += 1;
    await owner.write({ address: chain.contracts.messageProbe, abi: messageProbeAbi, functionName: 'setWormholeEmitter', args: [marker, `0x${'11'.repeat(32)}`] });
  }
}

/** What the chain says now: the state a follower must end with. */
async function canonical(): Promise<{ block: bigint; index: number; chain: number }[]> {
  const logs: Log[] = await owner.public.getLogs({
    address: chain.contracts.messageProbe,
    event: getAbiItem({ abi: messageProbeAbi, name: 'WormholeEmitterSet' }),
    fromBlock: startBlock,
    toBlock: 'latest',
  });
  return parseEventLogs({ abi: messageProbeAbi, eventName: 'WormholeEmitterSet', logs }).map((e) => ({ block: e.blockNumber, index: e.logIndex, chain: e.args.wormholeChainId }));
}

function follower(params: { rpcUrls?: string[]; store?: MemoryStore; handler?: EventList; confirmations?: number; maxRange?: bigint; stepBlocks?: bigint }) {
  const store = params.store ?? new MemoryStore();
  const handler = params.handler ?? new EventList();
  const client = rpcClient({ chainId: chain.chainId, rpcUrls: params.rpcUrls ?? [chain.rpcUrl], retries: 3, retryDelayMs: 5, timeoutMs: 2_000 });
  const instance = new BlockFollower({
    client,
    addresses: [chain.contracts.messageProbe],
    confirmations: params.confirmations ?? 0,
    startBlock,
    store,
    handler,
    maxRange: params.maxRange ?? 1_000n,
    stepBlocks: params.stepBlocks ?? 1_000n,
  });
  return { follower: instance, store, handler };
}

describe('following a chain', () => {
  it('backfills in bounded ranges and steps, checkpointing as it goes', async () => {
    await emit(12);
    const { follower: f, store, handler } = follower({ maxRange: 3n, stepBlocks: 5n });
    const result = await f.catchUp();
    expect(handler.events).toEqual(await canonical());
    expect(handler.events.length).toBeGreaterThanOrEqual(12);
    expect(result.checkpoint?.number).toBe(await owner.public.getBlockNumber({ cacheTime: 0 }));
    expect(store.saves).toBeGreaterThanOrEqual(3); // at least ceil(12 / 5) steps
  });

  it('applies only blocks `confirmations` deep', async () => {
    const { follower: f, handler } = follower({ confirmations: 3 });
    await emit(2);
    const head = await owner.public.getBlockNumber({ cacheTime: 0 });
    const result = await f.catchUp();
    expect(result.checkpoint?.number).toBe(head - 3n);
    expect(handler.events).toEqual((await canonical()).filter((e) => e.block <= head - 3n));
    expect(handler.events.some((e) => e.block > head - 3n)).toBe(false);
    await anvilControl({ chainId: chain.chainId, rpcUrl: chain.rpcUrl }).mine({ blocks: 3 });
    await f.catchUp();
    expect(handler.events).toEqual((await canonical()).filter((e) => e.block <= head));
    expect(handler.events.at(-1)?.block).toBe(head);
  });

  it('resumes from its checkpoint after a restart mid-backfill and reaches the same state', async () => {
    const store = new MemoryStore();
    const handler = new EventList();
    const first = follower({ store, handler, stepBlocks: 4n });
    await first.follower.step();
    await first.follower.step();
    expect(handler.events.length).toBeLessThan((await canonical()).length);
    const second = follower({ store, handler, stepBlocks: 4n });
    await second.follower.catchUp();
    expect(handler.events).toEqual(await canonical());
    const fresh = follower({});
    await fresh.follower.catchUp();
    expect(fresh.handler.events).toEqual(handler.events);
  });

  it('rolls back to the fork point on a reorg and replays the new branch, inventing and losing nothing', async () => {
    const control = anvilControl({ chainId: chain.chainId, rpcUrl: chain.rpcUrl });
    const { follower: f, handler } = follower({ stepBlocks: 1n });
    await emit(2);
    await f.catchUp();
    const forkBlock = await owner.public.getBlockNumber({ cacheTime: 0 });
    const snapshot = await control.snapshot();
    await emit(3);
    await f.catchUp();
    const orphaned = handler.events.filter((e) => e.block > forkBlock);
    expect(orphaned).toHaveLength(3);

    await control.revert({ id: snapshot });
    await emit(4); // a different branch, longer than the orphaned one
    const result = await f.catchUp();
    expect(handler.rollbacks).toContain(forkBlock);
    expect(result.checkpoint?.hash).toBe((await owner.public.getBlock({ blockTag: 'latest' })).hash);
    expect(handler.events).toEqual(await canonical());
    const markers = handler.events.map((e) => e.chain);
    for (const event of orphaned) expect(markers).not.toContain(event.chain);
  });
});

describe('following through an unreliable RPC', () => {
  it('gets the same events when every other call fails', async () => {
    const proxy = new RpcProxy(chain.rpcUrl, (_request, n) => (n % 2 === 0 ? { status: 500, body: { error: { code: -32603, message: 'flaky' } } } : 'forward'));
    const url = await proxy.start();
    try {
      const { follower: f, handler } = follower({ rpcUrls: [url], maxRange: 5n, stepBlocks: 7n });
      await f.catchUp();
      expect(handler.events).toEqual(await canonical());
      expect(proxy.requests).toBeGreaterThan(10);
    } finally {
      await proxy.stop();
    }
  });

  it('shrinks its getLogs range when the RPC refuses a large one', async () => {
    const limit = 4;
    let refused = 0;
    const proxy = new RpcProxy(chain.rpcUrl, (request) => {
      if (request.method !== 'eth_getLogs') return 'forward';
      const filter = request.params[0] as { fromBlock: string; toBlock: string };
      if (Number(filter.toBlock) - Number(filter.fromBlock) + 1 <= limit) return 'forward';
      refused += 1;
      return { status: 200, body: { error: { code: -32005, message: `block range is too wide (max ${limit})` } } };
    });
    const url = await proxy.start();
    try {
      const { follower: f, handler } = follower({ rpcUrls: [url], maxRange: 64n });
      await f.catchUp();
      expect(refused).toBeGreaterThan(0);
      expect(handler.events).toEqual(await canonical());
    } finally {
      await proxy.stop();
    }
  });

  it('fails over to the next RPC URL when the first does not answer', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { follower: f, handler } = follower({ rpcUrls: [dead, chain.rpcUrl] });
    await f.catchUp();
    expect(handler.events).toEqual(await canonical());
  });
});
