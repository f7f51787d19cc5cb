/**
 * Applies the migrations in migrations/ (drizzle's journal order: generated schema SQL and the
 * hand-written triggers, views and role). Safe to run twice and by several nodes at once: a
 * Postgres advisory lock lets one node migrate while the others wait, then find nothing to do.
 * Before applying anything it checks that what the database has applied is what this build
 * ships, so an edited or out-of-order migration stops the command instead of being skipped.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { LedgerDatabase, LedgerHandle } from './client.js';
import { MigrationError } from './errors.js';
import { pgErrorInfo } from './pg-error.js';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../migrations', import.meta.url));

/** Advisory lock key: the same for every node of every version, scoped to one database. */
const MIGRATION_LOCK = sql`hashtextextended('relayer ledger migrations', 0)`;

export interface MigrateLedgerParameters {
  readonly migrationsFolder?: string;
}

export interface MigrateLedgerReturnType {
  /** Tags applied by this call, in order; empty when the database was up to date. */
  readonly applied: readonly string[];
  /** Migrations the database has now. */
  readonly total: number;
}

interface ShippedMigration {
  readonly tag: string;
  readonly when: number;
  readonly hash: string;
}

interface AppliedMigration {
  readonly hash: string;
  readonly when: number;
}

export async function migrateLedger(
  handle: LedgerHandle,
  params: MigrateLedgerParameters = {},
): Promise<MigrateLedgerReturnType> {
  const folder = params.migrationsFolder ?? MIGRATIONS_FOLDER;
  const shipped = readShippedMigrations(folder);
  try {
    return await handle.withSession(async (session) => {
      await session.db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK})`);
      let result: MigrateLedgerReturnType;
      try {
        const before = await readAppliedMigrations(session.db);
        const pending = pendingMigrations({ shipped, applied: before });
        if (pending.length > 0) await session.runMigrations(folder);
        const after = await readAppliedMigrations(session.db);
        result = { applied: pending.map((m) => m.tag), total: after.length };
      } catch (error) {
        // The failed session is discarded, which releases the lock; an unlock error must not hide this one.
        await session.db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => undefined);
        throw error;
      }
      await session.db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK})`);
      return result;
    });
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    const reason = pgErrorInfo(error)?.message ?? (error instanceof Error ? error.message : String(error));
    throw new MigrationError(`migrating ${handle.location} failed: ${reason.split('\n')[0] ?? reason}`, { cause: error });
  }
}

function readShippedMigrations(folder: string): ShippedMigration[] {
  let journal: { entries: { tag: string; when: number }[] };
  let files: { hash: string; folderMillis: number }[];
  try {
    journal = JSON.parse(readFileSync(`${folder}/meta/_journal.json`, 'utf8')) as typeof journal;
    files = readMigrationFiles({ migrationsFolder: folder });
  } catch (cause) {
    throw new MigrationError(`cannot read the migrations in ${folder}`, { cause });
  }
  return journal.entries.map((entry, index) => {
    const file = files[index];
    if (file === undefined || file.folderMillis !== entry.when) {
      throw new MigrationError(`migrations journal and files disagree at ${entry.tag}`);
    }
    return { tag: entry.tag, when: entry.when, hash: file.hash };
  });
}

async function readAppliedMigrations(db: LedgerDatabase): Promise<AppliedMigration[]> {
  const exists = await db.execute<{ table: string | null }>(
    sql`select to_regclass('drizzle.__drizzle_migrations')::text as "table"`,
  );
  if (exists.rows[0]?.table == null) return [];
  const rows = await db.execute<{ hash: string; created_at: string | number }>(
    sql`select hash, created_at from drizzle.__drizzle_migrations order by created_at, id`,
  );
  return rows.rows.map((row) => ({ hash: row.hash, when: Number(row.created_at) }));
}

/**
 * What drizzle's migrator will apply: every shipped migration newer than the last applied one.
 * Refuses a history it would silently get wrong.
 */
export function pendingMigrations(params: {
  shipped: readonly ShippedMigration[];
  applied: readonly AppliedMigration[];
}): ShippedMigration[] {
  const { shipped, applied } = params;
  const byWhen = new Map(shipped.map((m) => [m.when, m]));
  for (const row of applied) {
    const known = byWhen.get(row.when);
    if (known === undefined) {
      throw new MigrationError('the database has a migration this build does not ship', {
        details: `applied at folder time ${row.when}; is a newer version of the node migrating this database?`,
      });
    }
    if (known.hash !== row.hash) {
      throw new MigrationError(`migration ${known.tag} was edited after it was applied`, {
        details: 'restore the file as applied and put the change in a new migration',
      });
    }
  }
  const last = applied.reduce((max, row) => Math.max(max, row.when), Number.NEGATIVE_INFINITY);
  const appliedWhen = new Set(applied.map((row) => row.when));
  const skipped = shipped.filter((m) => m.when <= last && !appliedWhen.has(m.when));
  if (skipped.length > 0) {
    throw new MigrationError(`migration ${skipped.map((m) => m.tag).join(', ')} is older than the last applied one`, {
      details: 'drizzle would skip it: regenerate it so that it comes last in the journal',
    });
  }
  return shipped.filter((m) => m.when > last);
}
