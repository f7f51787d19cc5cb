/**
 * A private redis-server for tests that stop and restart Redis: its own loopback port and its
 * own data directory (AOF, fsync on every write, no RDB), stopped by its PID, never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../chains/processes.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** The PID of the running server (changes on restart). */
  pid(): number | undefined;
  /** SIGTERM (Redis flushes the AOF and exits), then waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same directory, once it answers PING. */
  start(): Promise<void>;
  /** Stops it (SIGKILL if SIGTERM is ignored) and removes its directory; safe to call twice. */
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/** One PING over a raw socket: true only for +PONG (a server loading its AOF answers -LOADING). */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

const exitOf = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

export async function startRedisServer(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'relayer-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--save', ''];
    const spawned = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    let spawnError: Error | undefined;
    spawned.once('error', (error) => (spawnError = error)); // no redis-server binary: say so, do not crash
    spawned.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    spawned.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let i = 0; i < 400; i += 1) {
      if (spawnError) throw new Error(`cannot start redis-server: ${spawnError.message}`);
      if (spawned.exitCode !== null || spawned.signalCode !== null) throw new Error(`redis-server exited on start:\n${output}`);
      if (await pings(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`redis-server on port ${port} did not answer PING:\n${output}`);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (!running?.pid || running.exitCode !== null || running.signalCode !== null) return;
    running.kill('SIGTERM');
    await exitOf(running);
  };

  let disposed: Promise<void> | undefined;
  const dispose = () =>
    (disposed ??= (async () => {
      const running = child;
      if (running?.pid && isAlive(running.pid) && running.exitCode === null) {
        const killer = setTimeout(() => running.kill('SIGKILL'), 5_000);
        await stop();
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    })());

  try {
    await start();
  } catch (error) {
    await dispose();
    throw error;
  }
  return { port, url: `redis://127.0.0.1:${port}`, pid: () => child?.pid, stop, start, dispose };
}
