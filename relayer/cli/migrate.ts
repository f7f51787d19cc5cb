/**
 * `relayer migrate`: applies the ledger's migrations to DATABASE_URL (or the embedded
 * database). Safe to run twice and from several nodes at once; exits non-zero on any failure.
 */
import { databaseTargetFrom, DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, type Environment } from '../../db/cli-target.js';
import { migrateLedger } from '../../db/migrate.js';
import { openLedger } from '../../db/open-ledger.js';
import { UsageError } from '../errors.js';
import { parseCommandLine } from './args.js';
import type { Command } from './commands.js';

const SYNOPSIS = 'relayer migrate [--database-url URL] [--pglite-dir DIR]';
const USAGE = [`usage: ${SYNOPSIS}`, '', 'options:', ...DATABASE_OPTIONS_HELP, '  -h, --help'].join('\n');
const OPTIONS = { ...DATABASE_OPTIONS } as const;

export interface RunMigrateParameters {
  readonly args: readonly string[];
  readonly env: Environment;
  readonly stdout: { write(text: string): unknown };
}

export async function runMigrate(params: RunMigrateParameters): Promise<number> {
  const { values, positionals } = parseCommandLine(params.args, OPTIONS, SYNOPSIS, USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals.join(' ')}' (usage: ${SYNOPSIS})`);
  const target = databaseTargetFrom({ flags: values, env: params.env });
  const handle = await openLedger({ target, applicationName: 'relayer migrate', migrateEmbedded: false });
  try {
    const { applied, total } = await migrateLedger(handle);
    params.stdout.write(
      applied.length === 0
        ? `${handle.location}: up to date (${total} migrations)\n`
        : `${handle.location}: applied ${applied.length} of ${total} migrations: ${applied.join(', ')}\n`,
    );
    return 0;
  } finally {
    await handle.close();
  }
}

export const migrateCommand: Command = {
  run: (args) => runMigrate({ args, env: process.env, stdout: process.stdout }),
};
