/** Opens the ledger wherever the target says; the embedded database is migrated on open. */
import type { LedgerHandle } from './client.js';
import { migrateLedger } from './migrate.js';
import { openPgliteLedger } from './open-pglite.js';
import { openPostgresLedger } from './open-postgres.js';
import type { DatabaseTarget } from './target.js';

export interface OpenLedgerParameters {
  readonly target: DatabaseTarget;
  readonly applicationName?: string;
  /** Migrate an embedded database on open (default true); `relayer migrate` does it itself. */
  readonly migrateEmbedded?: boolean;
}

export async function openLedger(params: OpenLedgerParameters): Promise<LedgerHandle> {
  const { target } = params;
  if (target.kind === 'postgres') {
    return openPostgresLedger({ url: target.url, ...(params.applicationName ? { applicationName: params.applicationName } : {}) });
  }
  // Nobody runs `relayer migrate` against an embedded database: it belongs to this build.
  const handle = await openPgliteLedger({ dataDir: target.dataDir });
  if (params.migrateEmbedded === false) return handle;
  try {
    await migrateLedger(handle);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}
