import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, readManifest, writeManifest, type Manifest } from '../../chains/devnet/manifest.js';
import { ConfigError } from '../../relayer/errors.js';

const address = (n: number): string => `0x${n.toString(16).padStart(40, '0')}`;
const chain = (n: number) => ({
  key: ['alpha', 'beta'][n],
  chainId: 31001 + n,
  rpcUrl: `http://127.0.0.1:${8545 + n}`,
  lzEid: 30001 + n,
  wormholeChainId: [2, 4][n],
  lzDvnVid: 1 + n,
  contracts: {
    lzEndpoint: address(1),
    lzEndpointView: address(2),
    lzSendUln302: address(3),
    lzReceiveUln302: address(4),
    lzExecutor: address(5),
    lzDvn: address(6),
    lzPriceFeed: address(7),
    wormholeCore: address(8),
    messageProbe: address(9),
    collateralToken: address(10),
    marginEngine: address(11),
    vault: address(12),
  },
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'manifest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the devnet manifest', () => {
  it('round-trips through a file, with addresses checksummed', async () => {
    const manifest = parseManifest({ chains: [chain(0), chain(1)] });
    const file = join(dir, 'ok.json');
    await writeManifest(file, manifest);
    const read: Manifest = await readManifest(file);
    expect(read).toEqual(manifest);
    expect(read.chains[0]?.contracts.lzEndpoint).toBe('0x0000000000000000000000000000000000000001');
  });

  it.each([
    [{ chains: [] }, 'chains: must list at least one chain'],
    [{ chains: [{ ...chain(0), chainId: -5 }] }, 'chains[0].chainId'],
    [{ chains: [{ ...chain(0), lzEid: 101 }] }, 'chains[0].lzEid: must be 30000 or more'],
    [{ chains: [{ ...chain(0), contracts: { ...chain(0).contracts, lzEndpoint: '0x1234' } }] }, 'chains[0].contracts.lzEndpoint: must be a 0x-prefixed 20-byte hex address'],
    [{ chains: [{ ...chain(0), key: 'Alpha!' }] }, 'chains[0].key: must be lowercase'],
    [{ chains: [chain(0), { ...chain(1), chainId: 31001 }] }, 'chains[1].chainId: duplicate chainId 31001'],
    [{ chains: [chain(0), { ...chain(1), wormholeChainId: 2 }] }, 'chains[1].wormholeChainId: duplicate wormholeChainId 2'],
  ])('refuses %j, naming the field', (value, message) => {
    expect(() => parseManifest(value, 'm.json')).toThrow(ConfigError);
    expect(() => parseManifest(value, 'm.json')).toThrow(`m.json: ${message}`);
  });

  it('names the file when it is missing or not JSON', async () => {
    await expect(readManifest(join(dir, 'absent.json'))).rejects.toThrow(/cannot read manifest .*absent\.json: ENOENT/);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"chains": [');
    await expect(readManifest(broken)).rejects.toThrow(/manifest .*broken\.json is not JSON/);
  });
});
