/** The chains the node knows, and where each chain's watcher has got to. */
import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, integer, pgTable, primaryKey, smallint, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { bytes32, hexCheck } from './columns.js';
import { instant } from './timestamps.js';

export const chains = pgTable(
  'chains',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    key: text('key').notNull(),
    lzEid: integer('lz_eid'),
    wormholeChainId: integer('wormhole_chain_id'),
    confirmations: integer('confirmations').notNull().default(1),
    /** Decimals of the collateral token on this chain: reports turn base units into USD with it. */
    collateralDecimals: smallint('collateral_decimals').notNull().default(6),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'chains_pkey', columns: [t.chainId] }),
    uniqueIndex('chains_key_key').on(t.key),
    uniqueIndex('chains_lz_eid_key').on(t.lzEid),
    uniqueIndex('chains_wormhole_chain_id_key').on(t.wormholeChainId),
    check('chains_chain_id_check', sql`${t.chainId} > 0`),
    check('chains_confirmations_check', sql`${t.confirmations} >= 0`),
  ],
);

/** One per chain: the last block the watcher has fully processed, and its hash to detect reorgs. */
export const watcherCheckpoints = pgTable(
  'watcher_checkpoints',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
    blockHash: bytes32('block_hash').notNull(),
    /** The lease epoch of the watcher that wrote it (null: written before leases were fenced). */
    epoch: bigint('epoch', { mode: 'bigint' }),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'watcher_checkpoints_pkey', columns: [t.chainId] }),
    foreignKey({ name: 'watcher_checkpoints_chain_fk', columns: [t.chainId], foreignColumns: [chains.chainId] }),
    hexCheck(t.blockHash, 32),
    check('watcher_checkpoints_block_number_check', sql`${t.blockNumber} >= 0`),
  ],
);

/**
 * The fencing token of each chain's watcher lease: the epoch goes up by one on every takeover,
 * and a watcher's checkpoint and episode writes go through only while the epoch here is its own.
 */
export const watcherLeases = pgTable(
  'watcher_leases',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    epoch: bigint('epoch', { mode: 'bigint' }).notNull(),
    /** The node that claimed the current epoch. */
    owner: text('owner').notNull(),
    claimedAt: instant('claimed_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'watcher_leases_pkey', columns: [t.chainId] }),
    foreignKey({ name: 'watcher_leases_chain_fk', columns: [t.chainId], foreignColumns: [chains.chainId] }),
    check('watcher_leases_epoch_check', sql`${t.epoch} >= 1`),
  ],
);

export type Chain = typeof chains.$inferSelect;
export type NewChain = typeof chains.$inferInsert;
export type WatcherCheckpoint = typeof watcherCheckpoints.$inferSelect;
export type NewWatcherCheckpoint = typeof watcherCheckpoints.$inferInsert;
export type WatcherLease = typeof watcherLeases.$inferSelect;
