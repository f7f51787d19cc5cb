/**
 * The database flags and environment shared by the commands that open the ledger
 * (`relayer migrate`, `relayer report`): a flag wins over the environment, and with neither
 * the embedded PGlite database in DEFAULT_PGLITE_DIR is used.
 */
import { resolveDatabaseTarget, type DatabaseTarget } from './target.js';

export type Environment = Readonly<Record<string, string | undefined>>;

/** For util.parseArgs. */
export const DATABASE_OPTIONS = {
  'database-url': { type: 'string' },
  'pglite-dir': { type: 'string' },
} as const;

export const DATABASE_OPTIONS_HELP = [
  '  --database-url URL   PostgreSQL to use (default: $DATABASE_URL)',
  '  --pglite-dir DIR     embedded database directory when no URL is given',
  '                       (default: $RELAYER_PGLITE_DIR, else .relayer/pglite)',
];

export function databaseTargetFrom(params: {
  readonly flags: { readonly 'database-url'?: string | undefined; readonly 'pglite-dir'?: string | undefined };
  readonly env: Environment;
}): DatabaseTarget {
  const { flags, env } = params;
  const fromFlag = flags['database-url'] !== undefined;
  return resolveDatabaseTarget({
    databaseUrl: fromFlag ? flags['database-url'] : env.DATABASE_URL,
    databaseUrlSource: fromFlag ? '--database-url' : 'DATABASE_URL',
    pgliteDir: flags['pglite-dir'] ?? env.RELAYER_PGLITE_DIR,
  });
}
