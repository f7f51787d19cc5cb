/**
 * `relayer report NAME [--format table|csv|json]`: prints one of the ledger's SQL reports
 * (views created by the migrations); `relayer report --list` names them.
 */
import { databaseTargetFrom, DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, type Environment } from '../../db/cli-target.js';
import { openLedger } from '../../db/open-ledger.js';
import { hasSqlState } from '../../db/pg-error.js';
import { isReportName, REPORT_NAMES, REPORTS, type ReportName } from '../../db/reports/catalog.js';
import { formatReport, isReportFormat, REPORT_FORMATS, type ReportFormat } from '../../db/reports/format-report.js';
import { readReport } from '../../db/reports/read-report.js';
import { ConfigError, UsageError } from '../errors.js';
import { parseCommandLine } from './args.js';
import type { Command } from './commands.js';

const USAGE = [
  'usage: relayer report NAME [--format table|csv|json] [options]',
  '       relayer report --list',
  '',
  'options:',
  '  --format FORMAT      table (default), csv or json',
  '  --list               name the reports',
  ...DATABASE_OPTIONS_HELP,
  '  -h, --help',
].join('\n');

const SYNOPSIS = 'relayer report NAME [--format table|csv|json] | --list';
const OPTIONS = {
  ...DATABASE_OPTIONS,
  format: { type: 'string' },
  list: { type: 'boolean' },
} as const;
const UNDEFINED_TABLE = '42P01';

export interface RunReportParameters {
  readonly args: readonly string[];
  readonly env: Environment;
  readonly stdout: { write(text: string): unknown };
}

export async function runReport(params: RunReportParameters): Promise<number> {
  const { values, positionals } = parseCommandLine(params.args, OPTIONS, SYNOPSIS, USAGE);
  if (values.list) {
    params.stdout.write(listing());
    return 0;
  }
  const name = reportName(positionals);
  const format = reportFormat(values.format);
  const target = databaseTargetFrom({ flags: values, env: params.env });
  const handle = await openLedger({ target, applicationName: 'relayer report' });
  try {
    const report = await readReport(handle.db, name).catch((error: unknown) => {
      if (hasSqlState(error, UNDEFINED_TABLE)) {
        throw new ConfigError(`${handle.location} has no report views: run \`relayer migrate\` first`, { cause: error });
      }
      throw error;
    });
    params.stdout.write(formatReport(report, format));
    return 0;
  } finally {
    await handle.close();
  }
}

function listing(): string {
  const width = Math.max(...REPORT_NAMES.map((name) => name.length));
  return REPORT_NAMES.map((name) => `${name.padEnd(width)}  ${REPORTS[name].description}\n`).join('');
}

function reportName(positionals: readonly string[]): ReportName {
  const valid = `reports: ${REPORT_NAMES.join(', ')}`;
  const [name, ...extra] = positionals;
  if (name === undefined) throw new UsageError(`which report? (relayer report NAME; ${valid})`);
  if (extra.length > 0) throw new UsageError(`one report at a time, got ${positionals.join(' ')}`);
  if (!isReportName(name)) throw new UsageError(`unknown report '${name}' (${valid})`);
  return name;
}

function reportFormat(value: string | undefined): ReportFormat {
  const format = value ?? 'table';
  if (!isReportFormat(format)) throw new UsageError(`unknown format '${format}' (formats: ${REPORT_FORMATS.join(', ')})`);
  return format;
}

export const reportCommand: Command = {
  run: (args) => runReport({ args, env: process.env, stdout: process.stdout }),
};
