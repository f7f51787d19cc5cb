/**
 * The backstop's book, as the unwind worker saw it on chain: each trade it made into a market's
 * pool (`BackstopUnwound`, at most once per log), and each reading of its inventory (size, entry,
 * the oracle then), from which the report tells realised and unrealised PnL per market.
 * Sizes are signed (1e18 per unit, long > 0), prices the feed's 8 decimals, money base units.
 */
import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, integer, pgTable, primaryKey } from 'drizzle-orm/pg-core';
import { bytes32, hexCheck, nonNegative, tokenAmount } from './columns.js';
import { chains } from './chains.js';
import { instant } from './timestamps.js';

export const backstopUnwinds = pgTable(
  'backstop_unwinds',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    txHash: bytes32('tx_hash').notNull(),
    logIndex: integer('log_index').notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
    marketId: bytes32('market_id').notNull(),
    /** What the trade took off the backstop's position: > 0 sold a long, < 0 bought back a short. */
    size: tokenAmount('size').notNull(),
    oraclePrice: tokenAmount('oracle_price').notNull(),
    executionPrice: tokenAmount('execution_price').notNull(),
    /** The pool's price after the trade. */
    poolPrice: tokenAmount('pool_price').notNull(),
    /** Collateral received (a sale) or paid (a buy-back). */
    proceeds: tokenAmount('proceeds').notNull(),
    /** Cost against the oracle (> 0: worse than the oracle). */
    slippage: tokenAmount('slippage').notNull(),
    realizedPnl: tokenAmount('realized_pnl').notNull(),
    unwoundAt: instant('unwound_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'backstop_unwinds_pkey', columns: [t.chainId, t.txHash, t.logIndex] }),
    foreignKey({ name: 'backstop_unwinds_chain_fk', columns: [t.chainId], foreignColumns: [chains.chainId] }),
    index('backstop_unwinds_market_idx').on(t.chainId, t.marketId),
    hexCheck(t.txHash, 32),
    hexCheck(t.marketId, 32),
    check('backstop_unwinds_size_check', sql`${t.size} <> 0`),
    nonNegative(t.oraclePrice),
    nonNegative(t.executionPrice),
    nonNegative(t.poolPrice),
    nonNegative(t.proceeds),
  ],
);

export const backstopMarks = pgTable(
  'backstop_marks',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    marketId: bytes32('market_id').notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
    /** The backstop's position then (0: flat). */
    size: tokenAmount('size').notNull(),
    entryPrice: tokenAmount('entry_price').notNull(),
    oraclePrice: tokenAmount('oracle_price').notNull(),
    /** size x (oracle - entry), base units: what closing at the oracle would realise. */
    unrealizedPnl: tokenAmount('unrealized_pnl').notNull(),
    markedAt: instant('marked_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'backstop_marks_pkey', columns: [t.chainId, t.marketId, t.blockNumber] }),
    foreignKey({ name: 'backstop_marks_chain_fk', columns: [t.chainId], foreignColumns: [chains.chainId] }),
    hexCheck(t.marketId, 32),
    nonNegative(t.entryPrice),
    nonNegative(t.oraclePrice),
  ],
);
