import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, portInUse } from '../../chains/devnet/anvil.js';
import { parseManifest } from '../../chains/devnet/manifest.js';
import { isAlive } from '../chains/processes.js';
import { BIN, runCli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relayer-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Polls until `done` holds; the test's own timeout bounds it. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 50));
}

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

  it('stops every anvil when its parent exits (npx does not pass SIGTERM on), and when it is itself killed with SIGKILL', async () => {
    // Under a shell, as under npx: the shell is killed, the relayer is left re-parented.
    const wrapped = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" devnet up --chains 1 --manifest "${join(dir, 'orphan.json')}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    wrapped.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await until(() => out.includes('devnet: running'));
    const [orphanAnvil] = pidsIn(out);
    expect(orphanAnvil !== undefined && isAlive(orphanAnvil)).toBe(true);
    wrapped.kill('SIGKILL');
    await until(() => out.includes('devnet: stopped 1 chains'));
    expect(out).toContain('devnet: parent exited, stopping');
    await until(() => !isAlive(orphanAnvil as number));

    // Killed outright, it runs no handler: the kernel kills its chains (setpriv's parent-death signal).
    const run = runCli(['devnet', 'up', '--chains', '1', '--manifest', join(dir, 'killed.json')]);
    await run.waitFor('devnet: running');
    const [anvil] = pidsIn(run.stdout());
    expect(anvil !== undefined && isAlive(anvil)).toBe(true);
    run.child.kill('SIGKILL');
    expect(await run.exited).toBe('SIGKILL');
    await until(() => !isAlive(anvil as number));
  }, 90_000);

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

  // Each case is a process that exits at once: run them side by side.
  it.concurrent.for<[string[], RegExp]>([
    [['devnet', 'up', '--chains', '2'], /--manifest FILE is required/],
    [['devnet', 'up', '--manifest', 'm.json'], /--chains is required/],
    [['devnet', 'up', '--chains', 'three', '--manifest', 'm.json'], /--chains must be an integer from 1 to 10, got 'three'/],
    [['devnet', 'up', '--chains', '11', '--manifest', 'm.json'], /--chains must be an integer from 1 to 10, got '11'/],
    [['devnet', 'up', '--chains', '2', '--manifest', 'm.json', '--block-time=-1'], /--block-time must be a positive number, got '-1'/],
    [['devnet', 'up', '--chains', '2', '--manifest', 'm.json', '--block-time', '0'], /--block-time must be a positive number, got '0'/],
    [['devnet', 'up', '--chains', '2', '--manifest', '/no/such/dir/m.json'], /--manifest: directory \/no\/such\/dir does not exist/],
    [['devnet', 'up', '--chains', '2', '--manifest', 'm.json', '--bogus'], /Unknown option '--bogus'/],
    [['devnet', 'sideways'], /unknown devnet subcommand 'sideways'/],
  ])('refuses %j with one line naming the problem and exit code 2', async ([args, message], { expect }) => {
    const run = runCli(args);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toMatch(message);
    expect(run.stderr().trim().split('\n')[0]).toMatch(message);
    expect(run.stdout()).not.toContain('started');
  });
});
