import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, portInUse } from '../../chains/devnet/anvil.js';
import { parseManifest } from '../../chains/devnet/manifest.js';
import { isAlive } from '../chains/processes.js';
import { runCli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relayer-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pidsIn = (stdout: string): number[] => [...stdout.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));

describe('relayer devnet up', () => {
  it('brings chains up, writes the manifest, and on SIGTERM stops every anvil and exits 0', async () => {
    const manifestFile = join(dir, 'manifest.json');
    const run = runCli(['devnet', 'up', '--chains', '2', '--block-time', '1', '--manifest', manifestFile]);
    await run.waitFor('devnet: running');
    const pids = pidsIn(run.stdout());
    expect(pids).toHaveLength(2);
    expect(pids.every(isAlive)).toBe(true);

    const manifest = parseManifest(JSON.parse(await readFile(manifestFile, 'utf8')));
    expect(manifest.chains.map((c) => c.key)).toEqual(['alpha', 'beta']);
    expect(manifest.chains[0]?.contracts.lzEndpoint).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const ports = manifest.chains.map((c) => Number(new URL(c.rpcUrl).port));
    for (const port of ports) expect(await portInUse(port)).toBe(true);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('SIGTERM received');
    expect(pids.filter(isAlive)).toEqual([]);
    for (const port of ports) expect(await portInUse(port)).toBe(false);
  }, 60_000);

  it('the main job stopped by SIGTERM mid-run stops its node and every anvil, and exits 143', async () => {
    const run = runCli(['devnet', '--chains', '2', '--accounts', '10']);
    await run.waitFor('node started');
    const pids = pidsIn(run.stdout());
    expect(pids).toHaveLength(2);
    expect(pids.every(isAlive)).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(143);
    expect(run.stdout()).toContain('SIGTERM received; the node and every chain are stopped');
    expect(pids.filter(isAlive)).toEqual([]);
  }, 120_000);

  it('names a taken port, stops the chains it did start, and exits non-zero', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port + 1, '127.0.0.1', resolve));
    try {
      const run = runCli(['devnet', 'up', '--chains', '2', '--port', String(port), '--manifest', join(dir, 'taken.json')]);
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toContain(`port ${port + 1} is taken`);
      expect(await portInUse(port)).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it.each([
    [['devnet', 'up', '--chains', '2'], /--manifest FILE is required/],
    [['devnet', 'up', '--manifest', 'm.json'], /--chains is required/],
    [['devnet', 'up', '--chains', 'three', '--manifest', 'm.json'], /--chains must be an integer from 1 to 10, got 'three'/],
    [['devnet', 'up', '--chains', '11', '--manifest', 'm.json'], /--chains must be an integer from 1 to 10, got '11'/],
    [['devnet', 'up', '--chains', '2', '--manifest', 'm.json', '--block-time=-1'], /--block-time must be a positive number, got '-1'/],
    [['devnet', 'up', '--chains', '2', '--manifest', 'm.json', '--block-time', '0'], /--block-time must be a positive number, got '0'/],
    [['devnet', 'up', '--chains', '2', '--manifest', '/no/such/dir/m.json'], /--manifest: directory \/no\/such\/dir does not exist/],
    [['devnet', 'up', '--chains', '2', '--manifest', 'm.json', '--bogus'], /Unknown option '--bogus'/],
    [['devnet', 'sideways'], /unknown devnet subcommand 'sideways'/],
  ])('refuses %j with one line naming the problem and exit code 2', async (args, message) => {
    const run = runCli(args);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toMatch(message);
    expect(run.stderr().trim().split('\n')[0]).toMatch(message);
    expect(run.stdout()).not.toContain('started');
  });
});
