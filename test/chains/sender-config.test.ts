/** The node config's sender block (relayer/node/config.ts): defaults, and bad values refused naming the field. */
import { describe, expect, it } from 'vitest';
import { resolveNodeConfig } from '../../relayer/node/config.js';
import { ConfigError } from '../../relayer/errors.js';

const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
const contracts = Object.fromEntries(['vault', 'marginEngine', 'collateralToken', 'lzEndpoint', 'lzEndpointView', 'lzReceiveUln302', 'lzExecutor', 'lzDvn', 'wormholeCore'].map((name, i) => [name, address(i + 1)]));
const chains = [{ key: 'alpha', chainId: 31001, rpcUrls: ['http://127.0.0.1:8545'], lzEid: 30001, wormholeChainId: 2, contracts }];
const env = { RELAYER_PRIVATE_KEY: `0x${'11'.repeat(32)}`, RELAYER_DVN_PRIVATE_KEY: `0x${'22'.repeat(32)}` };
const resolve = (sender?: unknown) => resolveNodeConfig({ value: { chains, ...(sender === undefined ? {} : { sender }) }, source: 'node.json', env });

describe('the sender config', () => {
  it('defaults to replacing after 3 blocks at +12.5%, capped at 500 gwei', async () => {
    expect((await resolve()).sender).toEqual({ replaceAfterBlocks: 3, feeBumpPercent: 12.5, maxFeePerGasGwei: 500 });
  });

  it.each([
    [{ maxFeePerGasGwei: 0.5 }, 'node.json: sender.maxFeePerGasGwei: must be at least 1 gwei (the floor: below it a transaction cannot pay a base fee)'],
    [{ feeBumpPercent: 5 }, 'node.json: sender.feeBumpPercent: must be at least 10 (nodes refuse a smaller replacement)'],
    [{ replaceAfterBlocks: 0 }, 'node.json: sender.replaceAfterBlocks: must be at least 1'],
    [{ replaceAfterBlocks: 2.5 }, 'node.json: sender.replaceAfterBlocks: must be a whole number of blocks'],
  ])('refuses %j naming the field', async (sender, message) => {
    const refused = resolve(sender);
    await expect(refused).rejects.toThrow(ConfigError);
    await expect(refused).rejects.toThrow(message);
  });
});
