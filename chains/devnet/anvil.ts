import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import net from 'node:net';
import { RelayerError } from '../../relayer/errors.js';

export interface AnvilOptions {
  chainId: number;
  /** A fixed port; when absent a free loopback port is chosen. */
  port?: number;
  /** Seconds between blocks once started; absent = a block per transaction. */
  blockTime?: number;
}

export interface Anvil {
  readonly pid: number;
  readonly port: number;
  readonly chainId: number;
  readonly rpcUrl: string;
  /** Stops this anvil by its PID and waits for it to exit; safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;

/** Every anvil this process started and has not stopped: killed on exit so none outlives us. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * The platform binary that @foundry-rs/anvil ships. Spawned directly: the package's `npx`
 * wrapper is a node process, and killing it would leave the real anvil running.
 */
export function anvilBinary(): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch];
  const platform = ({ linux: 'linux', darwin: 'darwin', win32: 'win32' } as Record<string, string>)[process.platform];
  if (!arch || !platform) throw new RelayerError(`anvil is not shipped for ${process.platform}/${process.arch}`);
  const pkg = `@foundry-rs/anvil-${platform}-${arch}`;
  try {
    const manifest = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    return join(dirname(manifest), 'bin', platform === 'win32' ? 'anvil.exe' : 'anvil');
  } catch (cause) {
    throw new RelayerError(`anvil binary package ${pkg} is not installed (run npm ci)`, { cause });
  }
}

/** util-linux's setpriv, where the platform has it (every Debian and most Linux systems). */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => process.platform === 'linux' && existsSync(path));

/**
 * The command line that runs `argv` so that it dies with this process, however this process
 * ends: an `exit` handler does not run on SIGKILL, so on Linux the kernel is asked to kill the
 * chain when its parent dies (setpriv sets PR_SET_PDEATHSIG, then execs: the PID stays anvil's).
 */
function diesWithUs(argv: readonly string[]): readonly string[] {
  return SETPRIV ? [SETPRIV, '--pdeathsig', 'SIGKILL', '--', ...argv] : argv;
}

/** A loopback port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** True when something accepts connections on the port: we never start a chain on a taken one. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function answersChainId(rpcUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    const body = (await response.json()) as { result?: string };
    return body.result === undefined ? undefined : Number(body.result);
  } catch {
    return undefined;
  }
}

/** Starts one anvil chain and resolves once it answers `eth_chainId` with the chain id asked for. */
export async function startAnvil(options: AnvilOptions): Promise<Anvil> {
  const port = options.port ?? (await freePort());
  if (await portInUse(port)) throw new RelayerError(`port ${port} is taken: refusing to start chain ${options.chainId} there`);

  const args = ['--host', HOST, '--port', String(port), '--chain-id', String(options.chainId), '--silent'];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  const [command, ...commandArgs] = diesWithUs([anvilBinary(), ...args]);
  const child = spawn(command as string, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));

  const rpcUrl = `http://${HOST}:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const failure = await Promise.race([
      spawnFailed,
      exited.then(() => new Error(`exited with ${child.exitCode ?? child.signalCode}`)),
      new Promise<undefined>((resolve) => setTimeout(resolve, 50, undefined)),
    ]);
    if (failure) {
      await stop();
      throw new RelayerError(`anvil for chain ${options.chainId} on port ${port} failed to start: ${failure.message}`, {
        details: stderr.trim() || undefined,
      });
    }
    const chainId = await answersChainId(rpcUrl);
    if (chainId === options.chainId) break;
    if (chainId !== undefined || Date.now() > deadline) {
      await stop();
      throw new RelayerError(
        chainId === undefined
          ? `anvil for chain ${options.chainId} on port ${port} did not answer within ${READY_TIMEOUT_MS} ms`
          : `port ${port} answers as chain ${chainId}, not ${options.chainId}: another node took it`,
      );
    }
  }
  if (child.pid === undefined) throw new RelayerError(`anvil for chain ${options.chainId} has no pid`);
  return { pid: child.pid, port, chainId: options.chainId, rpcUrl, stop };
}
