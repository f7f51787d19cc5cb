/**
 * A fresh, empty database on a PostgreSQL server, for one test file or one benchmark run, and
 * its removal: runs in parallel never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface ScratchDatabase {
  readonly name: string;
  /** `adminUrl` pointed at the new database. */
  readonly url: string;
  drop(): Promise<void>;
}

async function admin(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Creates `<prefix><random hex>` through `adminUrl` (a user that may create databases). */
export async function createScratchDatabase(params: { adminUrl: string; prefix: string }): Promise<ScratchDatabase> {
  const name = `${params.prefix}${randomBytes(6).toString('hex')}`;
  await admin(params.adminUrl, `create database "${name}"`);
  const url = new URL(params.adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => admin(params.adminUrl, `drop database if exists "${name}" with (force)`) };
}
