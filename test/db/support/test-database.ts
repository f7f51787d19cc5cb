/**
 * A fresh PostgreSQL database per test file on the real server, dropped afterwards, so files
 * running in parallel never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { LedgerHandle } from '../../../db/client.js';
import { migrateLedger } from '../../../db/migrate.js';
import { openPostgresLedger } from '../../../db/open-postgres.js';

/** The server the suites use; trust auth as user postgres unless overridden. */
export const ADMIN_URL = process.env.RELAYER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `relayer_t_${randomBytes(6).toString('hex')}`;
  await admin(`create database "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin(`drop database if exists "${name}" with (force)`),
  };
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

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
