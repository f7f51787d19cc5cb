/**
 * A multi-row insert as one array per column (`insert ... select * from unnest($1::text[], ...)`):
 * the statement has as many parameters as the table has columns, however many rows it
 * carries, so neither building it nor the server's parsing grows with the batch. Used where
 * the orchestrator writes batches; values are given as the driver takes them (lower-case hex,
 * integers as decimal strings, instants as ISO strings, JSON as text).
 */
import { getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';

export interface ColumnValues {
  readonly column: PgColumn;
  /** The SQL type of one element (`text`, `numeric`, `leg_status`, ...). */
  readonly type: string;
  readonly values: readonly (string | number | null)[];
}

export const columnValues = (column: PgColumn, type: string, values: ColumnValues['values']): ColumnValues => ({ column, type, values });

export function bulkInsert(table: PgTable, columns: readonly ColumnValues[]): SQL {
  const names = sql.join(columns.map(({ column }) => sql.identifier(column.name)), sql`, `);
  // Sent as text[] and cast on the server: both drivers serialize a text array, not all of them an enum's.
  const arrays = sql.join(columns.map(({ type, values }) => sql`${sql.param(values)}::text[]::${sql.raw(type)}[]`), sql`, `);
  return sql`insert into ${sql.identifier(getTableName(table))} (${names}) select * from unnest(${arrays})`;
}

/** Driver values for the ledger's column types (see db/schema/columns.ts). */
export const hexValue = (value: string | null | undefined): string | null => (value == null ? null : value.toLowerCase());
export const integerValue = (value: bigint | number | null | undefined): string | null => (value == null ? null : value.toString());
export const instantValue = (value: Date | null | undefined): string | null => (value == null ? null : value.toISOString());
export const jsonValue = (value: unknown): string => JSON.stringify(value);

/**
 * Rows in id order (stable, so duplicates keep theirs): transactions that insert overlapping
 * batches then lock the rows in the same order, and cannot deadlock each other.
 */
export function inIdOrder<T extends { readonly id: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
