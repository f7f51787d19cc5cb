/**
 * Reads one report view into plain values, the same whichever driver: numerics stay strings
 * (exact), integers and floats are numbers, instants ISO-8601 strings.
 */
import { sql } from 'drizzle-orm';
import type { LedgerDatabase } from '../client.js';
import { REPORTS, type ReportName } from './catalog.js';

export type ReportValue = string | number | boolean | null;

export interface Report {
  readonly name: ReportName;
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, ReportValue>>[];
}

export async function readReport(db: LedgerDatabase, name: ReportName): Promise<Report> {
  const { view, orderBy } = REPORTS[name];
  // View and order come from the catalog, never from the command line.
  const result = await db.execute(sql.raw(`select * from "${view}" order by ${orderBy}`));
  const columns = result.fields.map((field) => field.name);
  const instants = new Set(result.fields.filter((field) => field.dataTypeID === TIMESTAMPTZ_OID).map((field) => field.name));
  const rows = result.rows.map((row) =>
    Object.fromEntries(columns.map((column) => [column, reportValue({ value: row[column], instant: instants.has(column) })])),
  );
  return { name, columns, rows };
}

const TIMESTAMPTZ_OID = 1184;

function reportValue(params: { value: unknown; instant: boolean }): ReportValue {
  const { value } = params;
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  // drizzle's node-postgres driver hands instants over as Postgres text ("2025-03-01 10:00:00+00").
  if (params.instant && typeof value === 'string') return instantFromPostgresText(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

function instantFromPostgresText(text: string): string {
  const iso = text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  const parsed = new Date(iso);
  return Number.isNaN(parsed.getTime()) ? text : parsed.toISOString();
}
