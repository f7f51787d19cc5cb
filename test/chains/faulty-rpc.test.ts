/**
 * Writes through a faulty RPC (chains/devnet/rpc-proxy.ts in front of a real anvil): a transport
 * or server failure (HTTP 503, JSON-RPC -32603, a reset, a body that does not parse, a stall)
 * is retried, on the next RPC URL where there is one, and the write lands exactly once; when
 * the RPC keeps failing, the error says what the RPC did and that a retry can help, and is no
 * revert. A revert through the same faulty RPC is still the contract's refusal, by name.
 */
import { encodeErrorResult } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marketPriceFeedAbi } from '../../chains/contracts/out/MarketPriceFeed.js';
import { freePort } from '../../chains/devnet/anvil.js';
import { startDevnet, type Devnet } from '../../chains/devnet/devnet.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { isRevert, revertError, Signer, type ChainEndpoint } from '../../chains/signer.js';
import { RelayerError } from '../../relayer/errors.js';
import { alternatingFaults, RpcProxy, type RpcFault, type RpcPolicy } from '../../chains/devnet/rpc-proxy.js';

let devnet: Devnet;
let chain: ManifestChain;
let feed: `0x${string}`;
const proxies: RpcProxy[] = [];

beforeAll(async () => {
  devnet = await startDevnet({ chains: 1 });
  chain = devnet.manifest.chains[0] as ManifestChain;
  feed = chain.markets[0]?.priceFeed as `0x${string}`;
});

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  await devnet?.stop();
});

async function proxied(policy: RpcPolicy): Promise<{ proxy: RpcProxy; url: string }> {
  const proxy = new RpcProxy(chain.rpcUrl, policy);
  proxies.push(proxy);
  return { proxy, url: await proxy.start() };
}

/** The feed's owner, through `rpcUrls` (the first is `rpcUrl`). */
const owner = (rpcUrls: readonly string[], options: Partial<ChainEndpoint> = {}) =>
  new Signer({ chainId: chain.chainId, rpcUrl: rpcUrls[0] ?? '', rpcUrls, name: chain.key, ...options }, devnetAccount(devnetRoles.deployer));
const direct = () => owner([chain.rpcUrl]);
const latestRound = async () => (await direct().public.readContract({ address: feed, abi: marketPriceFeedAbi, functionName: 'latestRoundData' }))[0];
const nonce = () => direct().public.getTransactionCount({ address: devnetAccount(devnetRoles.deployer).address, blockTag: 'latest' });

/** A proxy that answers every call of `methods` with `fault` and passes the rest on. */
const failing = (fault: RpcFault, methods: readonly string[]): RpcPolicy => (request) => (methods.includes(request.method) ? fault : 'forward');

describe('a write through an RPC failing every other call', () => {
  it('lands once per write, whatever the fault: 503, -32603, a reset, garbage', async () => {
    const { proxy, url } = await proxied(alternatingFaults());
    const signer = owner([url]);
    const [roundBefore, nonceBefore] = [await latestRound(), await nonce()];
    for (let i = 0; i < 12; i += 1) await pushPrice({ signer, feed, price: 3_000_00000000n + BigInt(i) });
    expect(await latestRound()).toBe(roundBefore + 12n);
    expect(await nonce()).toBe(nonceBefore + 12);
    expect([...proxy.faults.keys()].sort()).toEqual(['garbage', 'reset', 'rpc-error', 'status']);
    expect(proxy.injected()).toBeGreaterThanOrEqual(24);
  });

  it('times out a stalled call and retries it', async () => {
    const { proxy, url } = await proxied((_request, n) => (n % 3 === 0 ? { fault: 'stall', ms: 30_000 } : 'forward'));
    const before = await latestRound();
    await pushPrice({ signer: owner([url], { timeoutMs: 300 }), feed, price: 3_100_00000000n });
    expect(await latestRound()).toBe(before + 1n);
    expect(proxy.faults.get('stall')).toBeGreaterThan(0);
  });

  it('sends the same transaction again when the answer to sending it was lost, never a second one', async () => {
    let lost = 0;
    const { url } = await proxied((request) => (request.method === 'eth_sendRawTransaction' && lost++ === 0 ? { fault: 'lose-answer' } : 'forward'));
    const [roundBefore, nonceBefore] = [await latestRound(), await nonce()];
    await pushPrice({ signer: owner([url]), feed, price: 3_200_00000000n });
    expect(lost).toBe(2); // the lost send, and the same transaction sent again
    expect(await latestRound()).toBe(roundBefore + 1n);
    expect(await nonce()).toBe(nonceBefore + 1);
  });

  it('goes to the next RPC URL when the first fails', async () => {
    const { proxy, url } = await proxied(() => ({ fault: 'status', status: 503 }));
    const dead = `http://127.0.0.1:${await freePort()}`;
    const before = await latestRound();
    await pushPrice({ signer: owner([dead, url, chain.rpcUrl]), feed, price: 3_300_00000000n });
    expect(await latestRound()).toBe(before + 1n);
    expect(proxy.faults.get('status')).toBeGreaterThan(0);
  });
});

describe('an RPC that keeps failing', () => {
  it.each<[string, RpcFault, RegExp]>([
    ['HTTP 503', { fault: 'status', status: 503 }, /failed: HTTP 503 from the RPC$/],
    ['JSON-RPC -32603', { fault: 'rpc-error', code: -32603, message: 'Internal error' }, /failed: RPC error -32603: Internal error$/],
    ['a reset', { fault: 'reset' }, /failed: no answer from the RPC/],
    ['garbage', { fault: 'garbage' }, /failed: the RPC answered something that is not JSON/],
  ])('fails a write with %s as a retryable RPC failure, not as a revert', async (_name, fault, message) => {
    // Simulations and gas estimates fail: what viem reads as a revert when the error is -32603.
    const { url } = await proxied(failing(fault, ['eth_call', 'eth_estimateGas']));
    const before = await latestRound();
    const error = await pushPrice({ signer: owner([url]), feed, price: 3_400_00000000n }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayerError);
    expect(isRevert(error)).toBe(false);
    expect((error as RelayerError).retryable).toBe(true);
    expect((error as RelayerError).shortMessage).toMatch(message);
    expect((error as RelayerError).shortMessage).not.toMatch(/revert/);
    expect(await latestRound()).toBe(before);
  });

  it('takes an RPC error carrying revert data the contract decodes for a revert, whatever its code', async () => {
    const data = encodeErrorResult({ abi: marketPriceFeedAbi, errorName: 'NonPositiveAnswer', args: [-7n] });
    const { url } = await proxied((request) => (request.method === 'eth_call' ? { status: 200, body: { error: { code: -32603, message: 'Internal error', data } } } : 'forward'));
    const error = await pushPrice({ signer: owner([url]), feed, price: 3_500_00000000n }).catch((e: unknown) => e);
    expect(isRevert(error)).toBe(true);
    expect(revertError(error)).toEqual({ name: 'NonPositiveAnswer', args: [-7n] });
    expect((error as RelayerError).retryable).toBe(false);
  });

  it('still refuses a revert by name, at once and not retryable', async () => {
    const { proxy, url } = await proxied(alternatingFaults());
    const error = await pushPrice({ signer: owner([url]), feed, price: -1n }).catch((e: unknown) => e);
    expect(isRevert(error)).toBe(true);
    expect(revertError(error)).toEqual({ name: 'NonPositiveAnswer', args: [-1n] });
    expect((error as RelayerError).retryable).toBe(false);
    expect((error as RelayerError).shortMessage).toMatch(/failed: reverted with NonPositiveAnswer\(-1\)$/);
    expect(proxy.requests).toBeLessThan(8); // the simulation's answer, not a round of retries
  });
});
