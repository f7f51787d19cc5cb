/**
 * Shortfall reports: one row per (chain, engine, account, episode). The id is derived from
 * those four (db/ids.ts), so a repeated report of the same episode is the same row.
 */
import { sql } from 'drizzle-orm';
import { bigint, check, doublePrecision, foreignKey, index, jsonb, pgEnum, pgTable, primaryKey, uniqueIndex } from 'drizzle-orm/pg-core';
import { address, bytes32, hexCheck, nonNegative, tokenAmount } from './columns.js';
import { chains } from './chains.js';
import { instant } from './timestamps.js';

export const SHORTFALL_REASONS = ['breach', 'forecast', 'stale-price'] as const;
export const SHORTFALL_STATUSES = ['open', 'closed'] as const;

export const shortfallReasonEnum = pgEnum('shortfall_reason', SHORTFALL_REASONS);
export const shortfallStatusEnum = pgEnum('shortfall_status', SHORTFALL_STATUSES);

export const shortfalls = pgTable(
  'shortfalls',
  {
    id: bytes32('id').notNull(),
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    engine: address('engine').notNull(),
    account: address('account').notNull(),
    episode: bigint('episode', { mode: 'bigint' }).notNull(),
    reason: shortfallReasonEnum('reason').notNull(),
    /** Account state when detected, in collateral base units; equity may be negative. */
    equity: tokenAmount('equity').notNull(),
    maintenance: tokenAmount('maintenance').notNull(),
    /** What restores the target health: the amount the settlement must source. */
    requiredAmount: tokenAmount('required_amount').notNull(),
    detectedBlock: bigint('detected_block', { mode: 'bigint' }).notNull(),
    detectedAt: instant('detected_at').notNull(),
    status: shortfallStatusEnum('status').notNull().default('open'),
    closedAt: instant('closed_at'),
    /** Loss the protocol took when the episode closed (read from the chain); 0 when none. */
    badDebt: tokenAmount('bad_debt').notNull().default(sql`0`),
    /** Why it was reported (e.g. which price was stale), for the operator. */
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    /**
     * The latest assessment of the account while the episode is open: the report's numbers when
     * it is recorded (filled from the columns above by the trigger of migration 0006, whatever
     * inserts the row), then whatever `recordAssessments` saw at a later block. Null only where
     * the report carried no `mEff` in its detail (`latest_m_eff`).
     */
    latestRequiredAmount: tokenAmount('latest_required_amount'),
    latestEquity: tokenAmount('latest_equity'),
    latestMaintenance: tokenAmount('latest_maintenance'),
    /** The effective maintenance fraction the assessment used (1 = 100%). */
    latestMEff: doublePrecision('latest_m_eff'),
    /**
     * m_eff (1 + target) per market of the account (market id -> fraction, 1 = 100%): what the
     * required amount restores, market by market. Null where the report carried none.
     */
    latestTargetFractions: jsonb('latest_target_fractions').$type<Record<string, number>>(),
    /**
     * The watcher's EWMA volatility per market of the account (market id -> sigma per square root
     * of a second): what the decision core prices holding an absorbed position with. Null where the
     * report carried none.
     */
    latestSigmas: jsonb('latest_sigmas').$type<Record<string, number>>(),
    latestBlock: bigint('latest_block', { mode: 'bigint' }),
    latestAt: instant('latest_at'),
  },
  (t) => [
    primaryKey({ name: 'shortfalls_pkey', columns: [t.id] }),
    foreignKey({ name: 'shortfalls_chain_fk', columns: [t.chainId], foreignColumns: [chains.chainId] }),
    uniqueIndex('shortfalls_episode_key').on(t.chainId, t.engine, t.account, t.episode),
    index('shortfalls_status_idx').on(t.status),
    index('shortfalls_account_idx').on(t.account),
    hexCheck(t.id, 32),
    hexCheck(t.engine, 20),
    hexCheck(t.account, 20),
    nonNegative(t.maintenance),
    nonNegative(t.requiredAmount),
    nonNegative(t.badDebt),
    nonNegative(t.latestRequiredAmount),
    nonNegative(t.latestMaintenance),
    check('shortfalls_latest_block_check', sql`${t.latestBlock} >= 0`),
    check('shortfalls_closed_check', sql`(${t.status} = 'closed') = (${t.closedAt} is not null)`),
  ],
);

export type Shortfall = typeof shortfalls.$inferSelect;
export type NewShortfall = typeof shortfalls.$inferInsert;
export type ShortfallReason = (typeof SHORTFALL_REASONS)[number];
