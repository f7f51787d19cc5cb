/**
 * Renders a report as an aligned text table, CSV (quoted as RFC 4180 says, lines ending in \n
 * like `psql --csv`) or JSON (an array of rows; numerics as strings, so nothing is rounded).
 */
import type { Report, ReportValue } from './read-report.js';

export const REPORT_FORMATS = ['table', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

export function formatReport(report: Report, format: ReportFormat): string {
  switch (format) {
    case 'table':
      return formatTable(report);
    case 'csv':
      return formatCsv(report);
    case 'json':
      return `${JSON.stringify(report.rows, null, 2)}\n`;
  }
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

function formatTable(report: Report): string {
  const { columns, rows } = report;
  const cells = rows.map((row) => columns.map((column) => text(row[column] ?? null)));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i]?.length ?? 0)));
  // Right-align a column whose every value is a number, so digits line up.
  const numeric = columns.map((column) =>
    rows.every((row) => {
      const value = row[column] ?? null;
      return value === null || typeof value === 'number' || (typeof value === 'string' && NUMERIC.test(value));
    }),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => (numeric[i] ? value.padStart(widths[i] ?? 0) : value.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [line(columns), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)];
  out.push(`(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`);
  return `${out.join('\n')}\n`;
}

function formatCsv(report: Report): string {
  const { columns, rows } = report;
  const lines = [columns.map(csvField), ...rows.map((row) => columns.map((column) => csvField(text(row[column] ?? null))))];
  return lines.map((fields) => `${fields.join(',')}\n`).join('');
}

function text(value: ReportValue): string {
  return value === null ? '' : String(value);
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
