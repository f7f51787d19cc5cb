/** The SQL reports on a fixture ledger, and `relayer report` printing them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerHandle } from '../../db/client.js';
import { REPORT_NAMES } from '../../db/reports/catalog.js';
import { ConfigError, UsageError } from '../../relayer/errors.js';
import { runReport } from '../../relayer/cli/report.js';
import { buildReportLedger } from './support/report-fixture.js';
import { expectHandWorkedReports } from './support/report-expectations.js';
import { createMigratedLedger, createTestDatabase, type TestDatabase } from './support/test-database.js';

let ledger: LedgerHandle;
let url: string;
let cleanup: () => Promise<void>;
let ids: Awaited<ReturnType<typeof buildReportLedger>>;

beforeAll(async () => {
  const created = await createMigratedLedger();
  ({ ledger, cleanup } = created);
  url = created.database.url;
  ids = await buildReportLedger(ledger.db);
});

afterAll(async () => {
  await cleanup?.();
});

async function report(args: string[], env: Record<string, string> = {}): Promise<string> {
  let out = '';
  const code = await runReport({ args, env, stdout: { write: (text) => (out += text) } });
  expect(code).toBe(0);
  return out;
}

describe('reports', () => {
  it('give the numbers worked out by hand', async () => {
    await expectHandWorkedReports(ledger.db, ids);
  });
});

describe('relayer report', () => {
  it('prints CSV', async () => {
    expect(await report(['route-costs', '--format', 'csv', '--database-url', url])).toBe(
      [
        'source_chain,transport,legs,legs_delivered,legs_failed,amount_delivered,source_fees,destination_fees,fee_usd,fee_usd_per_leg,cost_bps',
        'alpha,layerzero,2,2,0,700000000,3000,800,1.900000,0.950000,27.1429',
        'beta,layerzero,2,1,1,600000000,2800,300,1.650000,0.825000,27.5000',
        'gamma,wormhole,3,1,2,400000000,3300,500,1.900000,0.633333,47.5000',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON, numerics as exact strings', async () => {
    const rows = JSON.parse(await report(['bad-debt', '--format', 'json'], { DATABASE_URL: url })) as unknown[];
    expect(rows).toEqual([
      expect.objectContaining({ chain: 'alpha', bad_debt: '120000000', accounts_with_bad_debt: 1 }),
      expect.objectContaining({ chain: 'beta', bad_debt: '0' }),
    ]);
  });

  it('prints an aligned table by default', async () => {
    const lines = (await report(['transport-latency', '--database-url', url])).split('\n');
    expect(lines[0]).toBe('transport  legs  p50_seconds  p90_seconds  p99_seconds  max_seconds  p50_end_to_end_seconds');
    expect(lines[1]).toMatch(/^-{9}  -{4}  -{11}/);
    expect(lines[2]).toMatch(/^layerzero     3           40 +64(\.\d+)? +69\.4\d* +70 +40$/);
    expect(lines[3]).toMatch(/^wormhole      1           60 /);
    expect(lines[4]).toBe('(2 rows)');
  });

  it('lists the reports', async () => {
    const listing = await report(['--list']);
    expect(listing.split('\n').filter(Boolean).map((line) => line.split(/\s+/)[0])).toEqual(REPORT_NAMES);
  });

  it('refuses an unknown report, naming the valid ones', async () => {
    const attempt = runReport({ args: ['bad-debts', '--database-url', url], env: {}, stdout: { write: () => 0 } });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(`unknown report 'bad-debts' (reports: ${REPORT_NAMES.join(', ')})`);
    await expect(runReport({ args: [], env: {}, stdout: { write: () => 0 } })).rejects.toThrow('which report?');
    await expect(runReport({ args: ['flows', '--format', 'xml'], env: {}, stdout: { write: () => 0 } })).rejects.toThrow(
      "unknown format 'xml' (formats: table, csv, json)",
    );
  });

  it('tells the operator to migrate a database without the views', async () => {
    let empty: TestDatabase | undefined;
    try {
      empty = await createTestDatabase();
      const attempt = runReport({ args: ['flows', '--database-url', empty.url], env: {}, stdout: { write: () => 0 } });
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      await expect(attempt).rejects.toThrow('has no report views: run `relayer migrate` first');
    } finally {
      await empty?.drop();
    }
  });
});
