/** The ledger: what the rest of the node imports from db/. */
export type { LedgerDatabase, LedgerExecutor, LedgerHandle, LedgerTransaction } from './client.js';
export * from './errors.js';
export * from './ids.js';
export * from './leg-state-machine.js';
export * from './ledger/index.js';
export * from './message-id.js';
export { migrateLedger, type MigrateLedgerReturnType } from './migrate.js';
export { openLedger, type OpenLedgerParameters } from './open-ledger.js';
export { DEFAULT_PGLITE_DIR, redactDatabaseUrl, resolveDatabaseTarget, type DatabaseTarget } from './target.js';
export * from './schema/index.js';
export { readReport, type Report } from './reports/read-report.js';
export { REPORT_NAMES, REPORTS, type ReportName } from './reports/catalog.js';
