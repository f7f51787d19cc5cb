/**
 * Reconciliation's own copy of the vaults' logs, as far as each chain's finality depth: a run
 * reads the chain only past its checkpoint, and every leg sent before it stays matchable to a
 * credit that comes after (migration 0014).
 */
import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { address, bytes32 } from './columns.js';
import { chains } from './chains.js';
import { instant } from './timestamps.js';

/** The last block of each vault whose logs are stored (at least its chain's confirmations deep when stored). */
export const reconcileCheckpoints = pgTable(
  'reconcile_checkpoints',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    vault: address('vault').notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'reconcile_checkpoints_pkey', columns: [t.chainId, t.vault] }),
    foreignKey({ name: 'reconcile_checkpoints_chain_fk', columns: [t.chainId], foreignColumns: [chains.chainId] }),
    check('reconcile_checkpoints_block_number_check', sql`${t.blockNumber} >= 0`),
  ],
);

/** A vault log as the chain gave it (topics and data), decoded again by each run. */
export const vaultLogs = pgTable(
  'vault_logs',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    vault: address('vault').notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
    logIndex: integer('log_index').notNull(),
    txHash: bytes32('tx_hash').notNull(),
    topics: jsonb('topics').$type<string[]>().notNull(),
    data: text('data').notNull(),
  },
  (t) => [
    primaryKey({ name: 'vault_logs_pkey', columns: [t.chainId, t.vault, t.blockNumber, t.logIndex] }),
    foreignKey({ name: 'vault_logs_chain_fk', columns: [t.chainId], foreignColumns: [chains.chainId] }),
  ],
);

export type StoredVaultLog = typeof vaultLogs.$inferSelect;
