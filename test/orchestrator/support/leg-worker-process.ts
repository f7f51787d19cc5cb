/**
 * The orchestrator's leg and delivery workers in a process of their own (leg-worker.ts), so a
 * test can kill one mid-leg the way a crash would and start another on the same queues.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Hash } from 'viem';
import { z } from 'zod';

const SCRIPT = fileURLToPath(new URL('./leg-worker.ts', import.meta.url));
/** Set to an exit code: the worker exits with it as soon as a leg's source transaction is mined. */
export const EXIT_ON_SOURCE_MINED = 'LEG_WORKER_EXIT_ON_SOURCE_MINED';

export const legWorkerConfigSchema = z.object({
  /** The devnet manifest (parsed again by the worker). */
  manifest: z.unknown(),
  databaseUrl: z.string().min(1),
  redisUrl: z.string().min(1),
  prefix: z.string().min(1),
  /** Short, so that the job of a worker that died is found stalled and taken over soon. */
  lockDurationMs: z.number().int().positive(),
  stalledIntervalMs: z.number().int().positive(),
});
export type LegWorkerConfig = z.input<typeof legWorkerConfigSchema>;

const sourceMinedSchema = z.object({ event: z.literal('source-mined'), legId: z.string(), txHash: z.string() });

/** What the worker prints (one JSON line) before it exits on a mined source transaction. */
export function printSourceMined(params: { legId: Hash; txHash: Hash }): void {
  // Synchronous: the process exits right after, and an asynchronous write could be lost.
  writeSync(1, `${JSON.stringify({ event: 'source-mined', ...params })}\n`);
}

export interface LegWorkerProcess {
  readonly pid: number | undefined;
  /** The exit code, or the signal name, once the process has exited. */
  readonly exited: Promise<number | string>;
  running(): boolean;
  /** The source transactions it reported mined before exiting. */
  sourceMined(): { legId: Hash; txHash: Hash }[];
  output(): string;
  /** SIGTERM (it drains and closes), SIGKILL if still running after `graceMs`; the exit. */
  stop(graceMs?: number): Promise<number | string>;
}

/** Starts leg-worker.ts under tsx with `configFile`; `exitOnSourceMined` arms the crash. */
export function spawnLegWorker(params: { configFile: string; exitOnSourceMined?: number }): LegWorkerProcess {
  const env = { ...process.env, [EXIT_ON_SOURCE_MINED]: params.exitOnSourceMined === undefined ? '' : String(params.exitOnSourceMined) };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SCRIPT, params.configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid,
    exited,
    running,
    sourceMined: () =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => sourceMinedSchema.parse(JSON.parse(line)) as { legId: Hash; txHash: Hash }),
    output: () => `stdout:\n${stdout}\nstderr:\n${stderr}`,
    async stop(graceMs = 10_000) {
      if (running() && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
        const timer = setTimeout(() => running() && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}
