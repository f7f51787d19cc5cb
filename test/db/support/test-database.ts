/**
 * A fresh PostgreSQL database per test file on the real server, dropped afterwards, so files
 * running in parallel never see each other's rows.
 */
import pg from 'pg';
import type { LedgerHandle } from '../../../db/client.js';
import { migrateLedger } from '../../../db/migrate.js';
import { openPostgresLedger } from '../../../db/open-postgres.js';
import { createScratchDatabase, type ScratchDatabase } from '../../../db/scratch-database.js';

/** The server the suites use; trust auth as user postgres unless overridden. */
export const ADMIN_URL = process.env.RELAYER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export type TestDatabase = ScratchDatabase;

export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase({ adminUrl: ADMIN_URL, prefix: 'relayer_t_' });
}

/** A fresh database, migrated, with a ledger handle on it. */
export async function createMigratedLedger(): Promise<{ database: TestDatabase; ledger: LedgerHandle; cleanup(): Promise<void> }> {
  const database = await createTestDatabase();
  const ledger = openPostgresLedger({ url: database.url, applicationName: 'relayer tests' });
  await migrateLedger(ledger);
  return {
    database,
    ledger,
    async cleanup() {
      await ledger.close();
      await database.drop();
    },
  };
}

/** A single connection to the test database, for raw SQL and explicit transactions. */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

