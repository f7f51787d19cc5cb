/**
 * An exclusive lock on a directory between processes: PGlite does not stop a second process
 * from opening the same data directory, and two writers would corrupt it. The lock is a file
 * holding the owner's PID; a file whose process is gone is stale and taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../relayer/errors.js';

const LOCK_FILE = 'relayer.lock';

export interface DirectoryLock {
  /** Removes the lock; safe to call twice. */
  release(): Promise<void>;
}

export async function lockDirectory(params: { dir: string; what: string }): Promise<DirectoryLock> {
  const path = join(params.dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && isAlive(owner)) {
        throw new ConfigError(`${params.what} is in use by process ${owner}`, {
          details: `only one process at a time may open it (lock: ${path}); use DATABASE_URL to share a ledger`,
        });
      }
      await unlink(path).catch(() => undefined);
    }
  }
  throw new ConfigError(`${params.what} is being opened by another process`, { details: `lock: ${path}` });
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
