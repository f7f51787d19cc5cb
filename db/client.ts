/**
 * The ledger's database handle, the same for both drivers: node-postgres against a server
 * (production, tests) and PGlite in process (the embedded default). Code above db/ sees only
 * `LedgerDatabase`, so it runs unchanged on either.
 */
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.js';

export type LedgerSchema = typeof schema;

/** What `execute` returns with either driver: the rows, and the columns in select order. */
export interface RowsResult<TRow> {
  readonly rows: TRow[];
  readonly fields: readonly { readonly name: string; readonly dataTypeID: number }[];
}

export interface LedgerQueryResultHKT extends PgQueryResultHKT {
  readonly type: RowsResult<this['row']>;
}

export type LedgerDatabase = PgDatabase<LedgerQueryResultHKT, LedgerSchema>;
export type LedgerTransaction = PgTransaction<LedgerQueryResultHKT, LedgerSchema, ExtractTablesWithRelations<LedgerSchema>>;

/** Where ledger actions run: the database, or a transaction a caller opened to compose them. */
export type LedgerExecutor = LedgerDatabase | LedgerTransaction;

export type LedgerDriver = 'postgres' | 'pglite';

/** One dedicated connection, for work bound to a session (advisory locks, migrations). */
export interface LedgerSession {
  readonly db: LedgerDatabase;
  /** Applies pending drizzle migrations from `migrationsFolder` on this session. */
  runMigrations(migrationsFolder: string): Promise<void>;
}

export interface LedgerHandle {
  readonly driver: LedgerDriver;
  readonly db: LedgerDatabase;
  /** Where it points, safe to log: a URL without its password, or the PGlite directory. */
  readonly location: string;
  withSession<T>(fn: (session: LedgerSession) => Promise<T>): Promise<T>;
  /** Closes the pool or the embedded database; safe to call twice. */
  close(): Promise<void>;
}
