/** Opens the ledger on a PostgreSQL server through a node-postgres pool. */
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { LedgerDatabase, LedgerHandle } from './client.js';
import * as schema from './schema/index.js';
import { redactDatabaseUrl } from './target.js';

export interface OpenPostgresLedgerParameters {
  readonly url: string;
  /** Pool size; node-postgres defaults to 10. */
  readonly maxConnections?: number;
  /** Shown in pg_stat_activity, so an operator can tell the node's sessions apart. */
  readonly applicationName?: string;
}

export function openPostgresLedger(params: OpenPostgresLedgerParameters): LedgerHandle {
  const pool = new pg.Pool({
    connectionString: params.url,
    max: params.maxConnections ?? 10,
    application_name: params.applicationName ?? 'relayer',
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db: LedgerDatabase = drizzle(pool, { schema });
  let closing: Promise<void> | undefined;

  return {
    driver: 'postgres',
    db,
    location: redactDatabaseUrl(params.url),
    async withSession(fn) {
      const client = await pool.connect();
      let failure: unknown;
      try {
        const sessionDb = drizzle(client, { schema });
        return await fn({ db: sessionDb, runMigrations: (migrationsFolder) => migrate(sessionDb, { migrationsFolder }) });
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        // A session that failed may be mid-transaction or hold a lock: discard it, do not reuse it.
        client.release(failure === undefined ? undefined : true);
      }
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
