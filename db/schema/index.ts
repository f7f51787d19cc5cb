/** The ledger schema: one module per aggregate. drizzle-kit reads this file (drizzle.config.ts). */
export * from './enums.js';
export * from './chains.js';
export * from './shortfalls.js';
export * from './settlements.js';
export * from './legs.js';
export * from './messages.js';
export * from './reconciliation.js';
export * from './backstop.js';
export * from './operator-actions.js';
export * from './vault-logs.js';
