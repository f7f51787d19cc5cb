/**
 * Where the ledger lives, decided once at the command boundary: a PostgreSQL URL when one is
 * given (flag or DATABASE_URL), otherwise the embedded PGlite database in a directory.
 */
import { ConfigError } from '../relayer/errors.js';

/** The embedded database's directory when neither a URL nor a directory is given (relative to the working directory). */
export const DEFAULT_PGLITE_DIR = '.relayer/pglite';

export type DatabaseTarget =
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'pglite'; readonly dataDir: string };

export interface ResolveDatabaseTargetParameters {
  /** A postgres:// URL; empty counts as absent. */
  readonly databaseUrl?: string | undefined;
  /** Name of the setting the URL came from, for the error message (`DATABASE_URL`, `--database-url`). */
  readonly databaseUrlSource?: string;
  readonly pgliteDir?: string | undefined;
}

export function resolveDatabaseTarget(params: ResolveDatabaseTargetParameters): DatabaseTarget {
  const url = params.databaseUrl?.trim();
  if (!url) return { kind: 'pglite', dataDir: params.pgliteDir?.trim() || DEFAULT_PGLITE_DIR };
  const source = params.databaseUrlSource ?? 'DATABASE_URL';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigError(`${source} is not a URL`, { cause, details: 'expected postgres://user@host:port/database' });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(`${source} must be a postgres:// or postgresql:// URL, not ${parsed.protocol}//`);
  }
  if (parsed.pathname.replace(/^\//, '') === '') {
    throw new ConfigError(`${source} names no database`, { details: 'expected postgres://user@host:port/database' });
  }
  return { kind: 'postgres', url };
}

/** The URL without its password, for logs and messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
