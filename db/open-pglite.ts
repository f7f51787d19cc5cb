/**
 * Opens the ledger on PGlite: PostgreSQL compiled to WebAssembly, in this process, so the
 * devnet needs no database server. One process at a time may open a data directory: a lock
 * file refuses a second one (PGlite itself would let it in, and two writers corrupt it).
 */
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type { LedgerDatabase, LedgerHandle } from './client.js';
import { lockDirectory, type DirectoryLock } from './directory-lock.js';
import * as schema from './schema/index.js';

export interface OpenPgliteLedgerParameters {
  /** Directory of the database files; undefined keeps it in memory (gone on close). */
  readonly dataDir?: string;
}

export async function openPgliteLedger(params: OpenPgliteLedgerParameters = {}): Promise<LedgerHandle> {
  const { dataDir } = params;
  let lock: DirectoryLock | undefined;
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    lock = await lockDirectory({ dir: dataDir, what: `the embedded database ${dataDir}` });
  }
  let client: PGlite;
  try {
    client = new PGlite(dataDir);
    await client.waitReady;
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const db: LedgerDatabase = drizzle(client, { schema });
  let closing: Promise<void> | undefined;

  return {
    driver: 'pglite',
    db,
    location: dataDir === undefined ? 'pglite (in memory)' : `pglite ${dataDir}`,
    // PGlite is a single session already.
    withSession: (fn) => fn({ db, runMigrations: (migrationsFolder) => migrate(drizzle(client, { schema }), { migrationsFolder }) }),
    close() {
      closing ??= (async () => {
        try {
          if (!client.closed) await client.close();
        } finally {
          await lock?.release();
        }
      })();
      return closing;
    },
  };
}
