/**
 * The embedded default: the same migrations, triggers, role and reports on PGlite (PostgreSQL
 * in this process, no server), persisted in a data directory the CLI can open again.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerHandle } from '../../db/client.js';
import { IllegalLegTransitionError } from '../../db/errors.js';
import { episodeStates, getLeg, recordAssessments, recordSettlement, recordShortfall, reservedOnSources, transitionLeg } from '../../db/ledger/index.js';
import { migrateLedger } from '../../db/migrate.js';
import { openPgliteLedger } from '../../db/open-pglite.js';
import { runReport } from '../../relayer/cli/report.js';
import { ConfigError } from '../../relayer/errors.js';
import { ALPHA, ENGINE, GAMMA, accountOf, collateralLeg, createPlan, liquidityLeg, pathTo, walk } from './support/fixtures.js';
import { expectHandWorkedReports } from './support/report-expectations.js';
import { buildReportLedger } from './support/report-fixture.js';

let dataDir: string;
let ledger: LedgerHandle;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'relayer-pglite-'));
  ledger = await openPgliteLedger({ dataDir });
});

afterAll(async () => {
  await ledger?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('PGlite', () => {
  it('takes the same migrations, twice, and has the auditor role', async () => {
    const first = await migrateLedger(ledger);
    expect(first.applied.length).toBeGreaterThan(0);
    expect(await migrateLedger(ledger)).toEqual({ applied: [], total: first.total });
    const roles = await ledger.db.execute<{ rolname: string }>(sql`select rolname from pg_roles where rolname = 'auditor'`);
    expect(roles.rows).toEqual([{ rolname: 'auditor' }]);
    const privilege = await ledger.db.execute<{ insert: boolean; select: boolean }>(
      sql`select has_table_privilege('auditor', 'leg_events', 'INSERT') as "insert", has_table_privilege('auditor', 'leg_events', 'SELECT') as "select"`,
    );
    expect(privilege.rows).toEqual([{ insert: false, select: true }]);
  });

  it('gives the reports the same numbers as PostgreSQL', async () => {
    const ids = await buildReportLedger(ledger.db);
    await expectHandWorkedReports(ledger.db, ids);
  });

  it('enforces the state machine and the append-only trail in the database', async () => {
    const { legIds } = await createPlan(ledger.db, { legs: [collateralLeg(2n ** 128n + 1n)] });
    const legId = legIds[0] ?? '0x';
    expect((await getLeg(ledger.db, legId as `0x${string}`))?.amount).toBe(2n ** 128n + 1n);
    await expect(transitionLeg(ledger.db, { legId: legId as `0x${string}`, from: 'planned', to: 'credited' })).rejects.toBeInstanceOf(
      IllegalLegTransitionError,
    );
    await expect(ledger.db.execute(sql`update legs set status = 'credited', version = 2 where id = ${legId}`)).rejects.toMatchObject({
      cause: { code: 'RL001' },
    });
    await expect(ledger.db.execute(sql`delete from leg_events`)).rejects.toMatchObject({ cause: { code: 'RL003' } });
  });

  it('shares a vault between plans recorded at once, under its lock, as PostgreSQL does', async () => {
    const reports = await Promise.all(
      [1n, 2n, 3n, 4n, 5n].map((episode) =>
        recordShortfall(ledger.db, { chainId: ALPHA, engine: ENGINE, account: accountOf(8), episode, reason: 'breach', equity: 1n, maintenance: 2n, requiredAmount: 100n, detectedBlock: 9n, detectedAt: new Date('2026-12-01T00:00:00Z') }),
      ),
    );
    const results = await Promise.all(
      reports.map(({ shortfall }) =>
        recordSettlement(ledger.db, {
          shortfallId: shortfall.id,
          revision: 0,
          requiredAmount: 100n,
          coveredAmount: 100n,
          plannedCostUsd: '0',
          plan: {},
          legs: [liquidityLeg(40n, { account: accountOf(8), reservation: { capacity: 100n, observedBlock: 9n } })],
        }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(2);
    expect(results.filter((r) => r.refused)).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ refused: { legIndex: 0, sourceChainId: GAMMA, source: 'vault', capacity: 100n, committed: 80n, requested: 40n } })),
    );
    const [first] = results.filter((r) => r.created);
    // The report fixture's gamma legs all ended: only these two hold the vault.
    expect(await reservedOnSources(ledger.db, [{ sourceChainId: GAMMA, source: 'vault', observedBlock: 9n }])).toEqual([80n]);
    await walk(ledger.db, { legId: first?.legIds[0] as `0x${string}`, from: 'planned', steps: pathTo('failed') });
    expect(await reservedOnSources(ledger.db, [{ sourceChainId: GAMMA, source: 'vault', observedBlock: 9n }])).toEqual([40n]);
  });

  it('reads episodes with their revisions and moves their latest assessment, as PostgreSQL does', async () => {
    const { shortfall } = await recordShortfall(ledger.db, {
      chainId: ALPHA, engine: ENGINE, account: accountOf(9), episode: 1n, reason: 'forecast', equity: 50n, maintenance: 60n, requiredAmount: 30n,
      detectedBlock: 70n, detectedAt: new Date('2026-12-01T00:00:00Z'), detail: { mEff: 0.1 },
    });
    const { settlementId, legIds } = await createPlan(ledger.db, { shortfallId: shortfall.id, revision: 0, legs: [liquidityLeg(10n, { account: accountOf(9), relief: 25n })] });
    expect(await recordAssessments(ledger.db, [{ shortfallId: shortfall.id, requiredAmount: 45n, equity: 40n, maintenance: 61n, mEff: 0.12, targetFractions: {}, block: 71n, at: new Date('2026-12-01T00:00:12Z') }])).toEqual([shortfall.id]);
    expect((await episodeStates(ledger.db, [shortfall.id])).get(shortfall.id)).toMatchObject({
      open: true,
      latestAssessment: { requiredAmount: 45n, equity: 40n, maintenance: 61n, mEff: 0.12, block: 71n, at: new Date('2026-12-01T00:00:12Z') },
      revisions: [{ revision: 0, settlementId, legIds, legStatuses: ['planned'], active: true }],
      nextRevision: 1,
      inFlightRelief: 25n,
    });
  });

  it('refuses a second opener of the same directory while it is open', async () => {
    const second = openPgliteLedger({ dataDir });
    await expect(second).rejects.toBeInstanceOf(ConfigError);
    await expect(second).rejects.toThrow(`the embedded database ${dataDir} is in use by process ${process.pid}`);
  });

  it('keeps the ledger in its data directory for the next process', async () => {
    await ledger.close();
    // A lock left by a process that died is stale: the next one takes it over.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(join(dataDir, 'relayer.lock'), `${dead}\n`);
    let out = '';
    const code = await runReport({ args: ['route-costs', '--format', 'csv'], env: { RELAYER_PGLITE_DIR: dataDir }, stdout: { write: (t) => (out += t) } });
    expect(code).toBe(0);
    expect(out.split('\n')[1]).toBe('alpha,layerzero,2,2,0,700000000,3000,800,1.900000,0.950000,27.1429');
    await expect(readdir(dataDir)).resolves.not.toContain('relayer.lock');
  });
});
