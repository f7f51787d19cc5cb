/** Migrations against a real server: from empty, twice, by several nodes at once, and upgrades. */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MigrationError } from '../../db/errors.js';
import { MIGRATIONS_FOLDER, migrateLedger, pendingMigrations } from '../../db/migrate.js';
import { openPostgresLedger } from '../../db/open-postgres.js';
import { runMigrate } from '../../relayer/cli/migrate.js';
import { connect, createTestDatabase, type TestDatabase } from './support/test-database.js';

const journal = JSON.parse(await readFile(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
  entries: { tag: string; when: number }[];
};
const TAGS = journal.entries.map((entry) => entry.tag);

const databases: TestDatabase[] = [];
const folders: string[] = [];

async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  databases.push(database);
  return database;
}

/** A copy of migrations/ to tamper with. */
async function migrationsCopy(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'relayer-migrations-'));
  folders.push(folder);
  await cp(MIGRATIONS_FOLDER, folder, { recursive: true });
  return folder;
}

async function withLedger<T>(url: string, run: (ledger: ReturnType<typeof openPostgresLedger>) => Promise<T>): Promise<T> {
  const ledger = openPostgresLedger({ url });
  try {
    return await run(ledger);
  } finally {
    await ledger.close();
  }
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = await connect(url);
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

afterEach(async () => {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
});

describe('migrate', () => {
  it('applies every migration to an empty database, then nothing the second time', async () => {
    const { url } = await freshDatabase();
    await withLedger(url, async (ledger) => {
      expect(await migrateLedger(ledger)).toEqual({ applied: TAGS, total: TAGS.length });
      expect(await migrateLedger(ledger)).toEqual({ applied: [], total: TAGS.length });
    });
    const triggers = await query<{ tgname: string }>(url, 'select tgname from pg_trigger where not tgisinternal order by 1');
    expect(triggers.map((t) => t.tgname)).toEqual([
      'leg_events_append_only',
      'leg_events_guard',
      'leg_events_no_truncate',
      'leg_operator_actions_append_only',
      'leg_transitions_no_truncate',
      'leg_transitions_read_only',
      'legs_created_with_event',
      'legs_guard',
      'legs_transition_with_event',
      'shortfalls_latest_from_report',
      'shortfalls_sigmas_from_report',
      'shortfalls_target_fractions_from_report',
    ]);
    const applied = await query<{ n: number }>(url, 'select count(*)::int as n from drizzle.__drizzle_migrations');
    expect(applied).toEqual([{ n: TAGS.length }]);
  });

  it('lets one of several nodes starting at once migrate, the others find it done', async () => {
    const { url } = await freshDatabase();
    const ledgers = Array.from({ length: 4 }, () => openPostgresLedger({ url }));
    try {
      const results = await Promise.all(ledgers.map((ledger) => migrateLedger(ledger)));
      const appliedCounts = results.map((r) => r.applied.length).sort();
      expect(appliedCounts).toEqual([0, 0, 0, TAGS.length]);
      for (const result of results) expect(result.total).toBe(TAGS.length);
    } finally {
      await Promise.all(ledgers.map((ledger) => ledger.close()));
    }
    expect(await query(url, 'select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: TAGS.length }]);
  });

  it('upgrades a database that has the older migrations only', async () => {
    const { url } = await freshDatabase();
    const older = await migrationsCopy();
    const olderJournal = { ...journal, entries: journal.entries.slice(0, 2) };
    await writeFile(join(older, 'meta/_journal.json'), JSON.stringify(olderJournal));
    await withLedger(url, async (ledger) => {
      expect(await migrateLedger(ledger, { migrationsFolder: older })).toEqual({ applied: TAGS.slice(0, 2), total: 2 });
      expect(await migrateLedger(ledger)).toEqual({ applied: TAGS.slice(2), total: TAGS.length });
    });
  });

  it('gives legs and episodes recorded before relief and assessments existed their values', async () => {
    const { url } = await freshDatabase();
    const older = await migrationsCopy();
    const before = TAGS.indexOf('0005_leg_relief_latest_assessment');
    await writeFile(join(older, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, before) }));
    await withLedger(url, (ledger) => migrateLedger(ledger, { migrationsFolder: older }));
    // A ledger as the previous release wrote it: a credited (final) collateral leg, a planned liquidity leg.
    const id = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
    const account = `0x${'ab'.repeat(20)}`;
    const client = await connect(url);
    try {
      await client.query('begin');
      await client.query(`insert into chains (chain_id, key) values (1, 'one'), (2, 'two')`);
      await client.query(
        `insert into shortfalls (id, chain_id, engine, account, episode, reason, equity, maintenance, required_amount, detected_block, detected_at, detail)
         values ($1, 1, $2, $2, 1, 'breach', -5, 10, 700, 33, '2026-01-01T00:00:00Z', '{"mEff": 0.06}')`,
        [id(1), account],
      );
      await client.query(
        `insert into settlements (id, shortfall_id, revision, required_amount, covered_amount, uncovered_amount, planned_cost_usd, plan)
         values ($1, $2, 0, 700, 700, 0, 1, '{}')`,
        [id(2), id(1)],
      );
      await client.query(
        `insert into legs (id, settlement_id, leg_index, kind, source_chain_id, destination_chain_id, transport, account, amount)
         values ($1, $3, 0, 'collateral', 2, 1, 'layerzero', $4, 300), ($2, $3, 1, 'liquidity', 2, 1, 'wormhole', $4, 400)`,
        [id(3), id(4), id(2), account],
      );
      await client.query(`insert into leg_events (leg_id, seq, to_status) values ($1, 1, 'planned'), ($2, 1, 'planned')`, [id(3), id(4)]);
      const path = ['planned', 'submitted', 'sent', 'verified', 'delivered', 'credited'];
      for (let seq = 2; seq <= path.length; seq += 1) {
        await client.query(`update legs set status = $2, version = $3 where id = $1`, [id(3), path[seq - 1], seq]);
        await client.query(`insert into leg_events (leg_id, seq, from_status, to_status) values ($1, $2, $3, $4)`, [id(3), seq, path[seq - 2], path[seq - 1]]);
      }
      await client.query('commit');
    } finally {
      await client.end();
    }
    await withLedger(url, async (ledger) => {
      expect((await migrateLedger(ledger)).applied).toEqual(TAGS.slice(before));
    });
    expect(await query(url, `select id, status, amount::text, relief::text from legs order by leg_index`)).toEqual([
      { id: id(3), status: 'credited', amount: '300', relief: '300' },
      { id: id(4), status: 'planned', amount: '400', relief: '400' },
    ]);
    expect(
      await query(url, `select latest_required_amount::text as r, latest_equity::text as e, latest_maintenance::text as m, latest_m_eff as f, latest_block::text as b, latest_at = detected_at as at from shortfalls`),
    ).toEqual([{ r: '700', e: '-5', m: '10', f: 0.06, b: '33', at: true }]);
    // The guard is back on, with relief among the fixed columns.
    await expect(query(url, `update legs set relief = 1 where id = '${id(4)}'`)).rejects.toMatchObject({ code: 'RL002' });
  });

  it('makes a pre-existing auditor read-only, whatever defaults a DBA gave it', async () => {
    const { url } = await freshDatabase();
    await query(
      url,
      `do $$ begin create role auditor nologin; exception when duplicate_object or unique_violation then null; end $$`,
    );
    await query(url, 'alter default privileges in schema public grant insert, update, delete on tables to auditor');
    await withLedger(url, (ledger) => migrateLedger(ledger));
    const privileges = await query<{ can_select: boolean; can_insert: boolean; can_update: boolean; can_delete: boolean }>(
      url,
      `select has_table_privilege('auditor', 'legs', 'SELECT') as can_select,
              has_table_privilege('auditor', 'legs', 'INSERT') as can_insert,
              has_table_privilege('auditor', 'leg_events', 'UPDATE') as can_update,
              has_table_privilege('auditor', 'shortfalls', 'DELETE') as can_delete`,
    );
    expect(privileges).toEqual([{ can_select: true, can_insert: false, can_update: false, can_delete: false }]);
  });

  it('rolls a failing migration back entirely, releases the lock, and says why', async () => {
    const { url } = await freshDatabase();
    const broken = await migrationsCopy();
    await writeFile(join(broken, '0099_broken.sql'), 'CREATE TABLE "fine" (x int);\n--> statement-breakpoint\nSELECT no_such_function();\n');
    const entries = [...journal.entries, { idx: 99, version: '7', when: Date.now() + 1000, tag: '0099_broken', breakpoints: true }];
    await writeFile(join(broken, 'meta/_journal.json'), JSON.stringify({ ...journal, entries }));
    await withLedger(url, async (ledger) => {
      const failure = migrateLedger(ledger, { migrationsFolder: broken });
      await expect(failure).rejects.toBeInstanceOf(MigrationError);
      await expect(failure).rejects.toThrow(/failed: function no_such_function\(\) does not exist/);
      // All pending migrations run in one transaction: nothing of it stayed.
      expect(await query(url, `select to_regclass('public.legs') is null as absent`)).toEqual([{ absent: true }]);
      expect(await migrateLedger(ledger)).toEqual({ applied: TAGS, total: TAGS.length });
    });
  });

  it('refuses a migration edited after it was applied', async () => {
    const { url } = await freshDatabase();
    const edited = await migrationsCopy();
    const tag = TAGS[1] ?? '';
    await writeFile(join(edited, `${tag}.sql`), `${await readFile(join(edited, `${tag}.sql`), 'utf8')}\n-- tweak\n`);
    await withLedger(url, async (ledger) => {
      await migrateLedger(ledger);
      await expect(migrateLedger(ledger, { migrationsFolder: edited })).rejects.toThrow(`migration ${tag} was edited after it was applied`);
    });
  });

  it('refuses to run an older build against a database a newer one migrated', async () => {
    const { url } = await freshDatabase();
    const older = await migrationsCopy();
    await writeFile(join(older, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }));
    await withLedger(url, async (ledger) => {
      await migrateLedger(ledger);
      await expect(migrateLedger(ledger, { migrationsFolder: older })).rejects.toThrow('the database has a migration this build does not ship');
    });
  });
});

describe('pendingMigrations', () => {
  const shipped = [
    { tag: 'a', when: 1, hash: 'ha' },
    { tag: 'b', when: 2, hash: 'hb' },
    { tag: 'c', when: 3, hash: 'hc' },
  ];

  it('is what comes after the last applied migration', () => {
    expect(pendingMigrations({ shipped, applied: [] }).map((m) => m.tag)).toEqual(['a', 'b', 'c']);
    expect(pendingMigrations({ shipped, applied: [{ when: 1, hash: 'ha' }] }).map((m) => m.tag)).toEqual(['b', 'c']);
  });

  it('refuses a migration that drizzle would skip because it sorts before the last applied one', () => {
    expect(() => pendingMigrations({ shipped, applied: [{ when: 1, hash: 'ha' }, { when: 3, hash: 'hc' }] })).toThrow(
      'migration b is older than the last applied one',
    );
  });
});

describe('relayer migrate', () => {
  it('reports what it applied, then that the database is up to date', async () => {
    const { url } = await freshDatabase();
    const out: string[] = [];
    const run = () => runMigrate({ args: ['--database-url', url], env: {}, stdout: { write: (text) => out.push(text) } });
    expect(await run()).toBe(0);
    expect(await run()).toBe(0);
    const where = url.replace(/\/$/, '');
    expect(out).toEqual([
      `${where}: applied ${TAGS.length} of ${TAGS.length} migrations: ${TAGS.join(', ')}\n`,
      `${where}: up to date (${TAGS.length} migrations)\n`,
    ]);
  });

  it('takes DATABASE_URL from the environment, and refuses one that is not postgres', async () => {
    const { url } = await freshDatabase();
    const out: string[] = [];
    expect(await runMigrate({ args: [], env: { DATABASE_URL: url }, stdout: { write: (text) => out.push(text) } })).toBe(0);
    expect(out[0]).toContain(`applied ${TAGS.length}`);
    await expect(runMigrate({ args: [], env: { DATABASE_URL: 'mysql://x/y' }, stdout: { write: () => 0 } })).rejects.toThrow(
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
    );
    await expect(runMigrate({ args: ['extra'], env: {}, stdout: { write: () => 0 } })).rejects.toThrow(/unexpected argument 'extra'/);
  });
});
