/** The audit trail cannot be rewritten, and the auditor role reads everything and writes nothing. */
import { eq } from 'drizzle-orm';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerDatabase } from '../../db/client.js';
import { listLegEvents } from '../../db/ledger/index.js';
import { legEvents } from '../../db/schema/legs.js';
import { collateralLeg, createPlan, pathTo, seedChains, walk } from './support/fixtures.js';
import { connect, createMigratedLedger } from './support/test-database.js';

let db: LedgerDatabase;
let raw: pg.Client;
let cleanup: () => Promise<void>;
let legId: `0x${string}`;

beforeAll(async () => {
  const created = await createMigratedLedger();
  db = created.ledger.db;
  cleanup = created.cleanup;
  raw = await connect(created.database.url);
  await seedChains(db);
  const { legIds } = await createPlan(db, { legs: [collateralLeg(10n)] });
  legId = legIds[0] as `0x${string}`;
  await walk(db, { legId, from: 'planned', steps: pathTo('credited') });
});

afterAll(async () => {
  await raw?.end();
  await cleanup?.();
});

async function sqlState(statement: string): Promise<string | undefined> {
  try {
    await raw.query(statement);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code';
  }
}

describe('leg_events is append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE, even by the table owner', async () => {
    expect(await sqlState(`update leg_events set actor = 'someone else'`)).toBe('RL003');
    expect(await sqlState(`update leg_events set to_status = 'failed' where to_status = 'credited'`)).toBe('RL003');
    expect(await sqlState('delete from leg_events')).toBe('RL003');
    expect(await sqlState('truncate leg_events')).toBe('RL003');
    // Truncating the legs would take their events with them.
    expect(await sqlState('truncate legs cascade')).toBe('RL003');
    expect(await listLegEvents(db, legId)).toHaveLength(6);
  });

  it('refuses them through drizzle too, with a message that says why', async () => {
    await expect(db.update(legEvents).set({ actor: 'x' }).where(eq(legEvents.legId, legId))).rejects.toMatchObject({
      cause: { code: 'RL003', message: 'leg_events is append-only: UPDATE refused' },
    });
    await expect(db.delete(legEvents).where(eq(legEvents.legId, legId))).rejects.toMatchObject({ cause: { code: 'RL003' } });
  });

  it('stamps recorded_at with the database clock, not the writer’s claim', async () => {
    const events = await listLegEvents(db, legId);
    const { rows } = await raw.query<{ now: Date }>('select now() as now');
    for (const event of events) expect(event.recordedAt.getTime()).toBeLessThanOrEqual((rows[0]?.now ?? new Date(0)).getTime());
    expect(await sqlState(`delete from legs where id = '${legId}'`)).toBe('23503'); // events keep their leg
  });

  it('keeps the state machine edges fixed outside migrations', async () => {
    expect(await sqlState(`insert into leg_transitions values ('credited', 'planned')`)).toBe('RL003');
    expect(await sqlState(`delete from leg_transitions`)).toBe('RL003');
    expect(await sqlState(`truncate leg_transitions`)).toBe('RL003');
  });
});

describe('the auditor role', () => {
  async function relations(): Promise<{ schema: string; name: string; type: string }[]> {
    const { rows } = await raw.query<{ schema: string; name: string; type: string }>(
      `select table_schema as schema, table_name as name, table_type as type from information_schema.tables
       where table_schema in ('public', 'drizzle') order by 1, 2`,
    );
    return rows;
  }

  async function asAuditor<T>(run: () => Promise<T>): Promise<T> {
    await raw.query('set role auditor');
    try {
      return await run();
    } finally {
      await raw.query('reset role');
    }
  }

  it('exists and cannot log in by itself', async () => {
    const { rows } = await raw.query<{ rolcanlogin: boolean; rolsuper: boolean }>(
      `select rolcanlogin, rolsuper from pg_roles where rolname = 'auditor'`,
    );
    expect(rows).toEqual([{ rolcanlogin: false, rolsuper: false }]);
  });

  it('can SELECT every table and every report view', async () => {
    const all = await relations();
    expect(all.filter((r) => r.type === 'VIEW').map((r) => r.name)).toEqual([
      'report_backstop_inventory',
      'report_bad_debt',
      'report_flows_daily',
      'report_reservations',
      'report_route_costs',
      'report_settlement_status',
      'report_transport_latency',
      'report_unreconciled_legs',
    ]);
    expect(all.length).toBeGreaterThan(15);
    const failures = await asAuditor(async () => {
      const failed: string[] = [];
      for (const r of all) if ((await sqlState(`select * from "${r.schema}"."${r.name}" limit 1`)) !== undefined) failed.push(r.name);
      return failed;
    });
    expect(failures).toEqual([]);
    const events = await asAuditor(() => raw.query('select count(*)::int as n from leg_events'));
    expect(events.rows[0]).toEqual({ n: 6 });
  });

  it('cannot INSERT, UPDATE, DELETE or TRUNCATE any table, nor create one', async () => {
    const tables = (await relations()).filter((r) => r.type === 'BASE TABLE');
    const outcomes = await asAuditor(async () => {
      const codes = new Set<string | undefined>();
      for (const { schema, name } of tables) {
        const table = `"${schema}"."${name}"`;
        codes.add(await sqlState(`insert into ${table} default values`));
        codes.add(await sqlState(`update ${table} set ${await firstColumn(schema, name)} = ${await firstColumn(schema, name)}`));
        codes.add(await sqlState(`delete from ${table}`));
        codes.add(await sqlState(`truncate ${table}`));
      }
      codes.add(await sqlState('create table public.auditor_was_here (x int)'));
      return codes;
    });
    expect([...outcomes]).toEqual(['42501']); // insufficient_privilege, every time
  });

  async function firstColumn(schema: string, table: string): Promise<string> {
    const { rows } = await raw.query<{ name: string }>(
      `select column_name as name from information_schema.columns where table_schema = $1 and table_name = $2 and is_identity = 'NO' order by ordinal_position limit 1`,
      [schema, table],
    );
    return `"${rows[0]?.name ?? 'missing'}"`;
  }
});
