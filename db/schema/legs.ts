/**
 * Legs and their audit trail. A leg is one movement of value for a settlement; its status
 * only changes through db/ledger/transition-leg.ts, which appends one `leg_events` row per
 * transition in the same transaction. Migration 0001 adds the triggers that make the
 * database refuse anything else (illegal transitions, edits to events, status changes
 * without their event).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { address, bytes32, hexCheck, messageIdCheck, nonNegative, tokenAmount } from './columns.js';
import { chains } from './chains.js';
import { legStatusEnum, transportEnum } from './enums.js';
import { settlements } from './settlements.js';
import { instant } from './timestamps.js';

/** `local` and `auction` never leave their chain: a close into the pool, a Dutch auction keepers take. */
export const LEG_KINDS = ['collateral', 'liquidity', 'local', 'auction'] as const;
export type LegKind = (typeof LEG_KINDS)[number];
export const legKindEnum = pgEnum('leg_kind', LEG_KINDS);

export const legs = pgTable(
  'legs',
  {
    id: bytes32('id').notNull(),
    settlementId: bytes32('settlement_id').notNull(),
    legIndex: integer('leg_index').notNull(),
    kind: legKindEnum('kind').notNull(),
    sourceChainId: bigint('source_chain_id', { mode: 'number' }).notNull(),
    destinationChainId: bigint('destination_chain_id', { mode: 'number' }).notNull(),
    /** Null for a `local` or `auction` leg, which never leaves its chain. */
    transport: transportEnum('transport'),
    account: address('account').notNull(),
    marketId: bytes32('market_id'),
    amount: tokenAmount('amount').notNull(),
    /**
     * The part of the account's required amount (collateral base units) the leg was planned to
     * cover: its `amount` for a collateral leg; for a liquidity leg what the absorption restores
     * (its `amount` is the margin the backstop needs); for a local leg what the close relieves.
     */
    relief: tokenAmount('relief').notNull().default(sql`0`),
    /** Signed position size a liquidity leg absorbs (0 for collateral). */
    positionSize: tokenAmount('position_size').notNull().default(sql`0`),
    deadline: instant('deadline'),
    status: legStatusEnum('status').notNull().default('planned'),
    /** Number of events the leg has; the next event's `seq`. Bumped by every transition. */
    version: integer('version').notNull().default(1),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** The status a failed leg failed from: decides whether a refund is owed. */
    failedFrom: legStatusEnum('failed_from'),
    sourceTxHash: bytes32('source_tx_hash'),
    sourceBlock: bigint('source_block', { mode: 'bigint' }),
    destinationTxHash: bytes32('destination_tx_hash'),
    destinationBlock: bigint('destination_block', { mode: 'bigint' }),
    messageId: text('message_id'),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'legs_pkey', columns: [t.id] }),
    foreignKey({ name: 'legs_settlement_fk', columns: [t.settlementId], foreignColumns: [settlements.id] }),
    foreignKey({ name: 'legs_source_chain_fk', columns: [t.sourceChainId], foreignColumns: [chains.chainId] }),
    foreignKey({ name: 'legs_destination_chain_fk', columns: [t.destinationChainId], foreignColumns: [chains.chainId] }),
    uniqueIndex('legs_settlement_index_key').on(t.settlementId, t.legIndex),
    uniqueIndex('legs_message_id_key').on(t.messageId),
    index('legs_status_idx').on(t.status),
    index('legs_route_idx').on(t.sourceChainId, t.transport),
    index('legs_destination_chain_idx').on(t.destinationChainId),
    index('legs_account_idx').on(t.account),
    // The legs holding a reservation on their source (db/ledger/reservations.ts): a vault's per
    // chain, an account's surplus per chain. Ended legs (credited, failed, refunded) leave it.
    index('legs_reserving_source_idx')
      .on(t.sourceChainId, t.kind, t.account)
      .where(sql`${t.kind} in ('collateral', 'liquidity') and ${t.status} not in ('credited', 'failed', 'refunded')`),
    hexCheck(t.id, 32),
    hexCheck(t.account, 20),
    hexCheck(t.marketId, 32),
    hexCheck(t.sourceTxHash, 32),
    hexCheck(t.destinationTxHash, 32),
    messageIdCheck(t.messageId),
    nonNegative(t.amount),
    nonNegative(t.relief),
    // An account's own collateral relieves it one for one (added after 0006 set relief on older legs).
    check('legs_collateral_relief_check', sql`${t.kind} <> 'collateral' or ${t.relief} = ${t.amount}`),
    check('legs_leg_index_check', sql`${t.legIndex} >= 0`),
    check('legs_attempts_check', sql`${t.attempts} >= 0`),
    check('legs_version_check', sql`${t.version} >= 1`),
    check(
      'legs_route_check',
      // As text: a check may not use an enum value added in the same migration's transaction.
      sql`case when ${t.kind}::text in ('local', 'auction')
            then ${t.transport} is null and ${t.sourceChainId} = ${t.destinationChainId}
            else ${t.transport} is not null and ${t.sourceChainId} <> ${t.destinationChainId} end`,
    ),
    check('legs_failed_from_check', sql`(${t.status} in ('failed', 'refunded')) = (${t.failedFrom} is not null)`),
  ],
);

/** Append-only: one row per transition (and one for the leg's creation, seq 1, from null). */
export const legEvents = pgTable(
  'leg_events',
  {
    id: bigint('id', { mode: 'bigint' }).generatedAlwaysAsIdentity(),
    legId: bytes32('leg_id').notNull(),
    seq: integer('seq').notNull(),
    fromStatus: legStatusEnum('from_status'),
    toStatus: legStatusEnum('to_status').notNull(),
    /** The chain the evidence (tx, block, fee) is on. */
    chainId: bigint('chain_id', { mode: 'number' }),
    txHash: bytes32('tx_hash'),
    blockNumber: bigint('block_number', { mode: 'bigint' }),
    blockHash: bytes32('block_hash'),
    messageId: text('message_id'),
    /** Amount observed in this step (burned on send, minted on delivery), base units. */
    amount: tokenAmount('amount'),
    /** Native fee paid in this step on `chain_id` (gas, plus the messaging fee on send), wei. */
    fee: tokenAmount('fee'),
    /** The same fee valued in USD when it was paid. */
    feeUsd: numeric('fee_usd', { precision: 30, scale: 6 }),
    error: text('error'),
    /** Which node or worker wrote the event. */
    actor: text('actor'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    /** When it happened (block time, or observation time); `recorded_at` is when the ledger wrote it. */
    occurredAt: instant('occurred_at').notNull().defaultNow(),
    recordedAt: instant('recorded_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'leg_events_pkey', columns: [t.id] }),
    foreignKey({ name: 'leg_events_leg_fk', columns: [t.legId], foreignColumns: [legs.id] }),
    foreignKey({ name: 'leg_events_chain_fk', columns: [t.chainId], foreignColumns: [chains.chainId] }),
    uniqueIndex('leg_events_leg_seq_key').on(t.legId, t.seq),
    index('leg_events_status_time_idx').on(t.toStatus, t.occurredAt),
    index('leg_events_tx_hash_idx').on(t.txHash),
    hexCheck(t.txHash, 32),
    hexCheck(t.blockHash, 32),
    messageIdCheck(t.messageId),
    nonNegative(t.amount),
    nonNegative(t.fee),
    check('leg_events_seq_check', sql`${t.seq} >= 1`),
    check('leg_events_fee_chain_check', sql`${t.fee} is null or ${t.chainId} is not null`),
    check('leg_events_evidence_chain_check', sql`${t.txHash} is null or ${t.chainId} is not null`),
  ],
);

/**
 * The legal edges of the state machine, as data the database trigger reads (and an auditor
 * can too). Seeded by migration 0001 from db/leg-state-machine.ts.
 */
export const legTransitions = pgTable(
  'leg_transitions',
  {
    fromStatus: legStatusEnum('from_status').notNull(),
    toStatus: legStatusEnum('to_status').notNull(),
  },
  (t) => [primaryKey({ name: 'leg_transitions_pkey', columns: [t.fromStatus, t.toStatus] })],
);

export type Leg = typeof legs.$inferSelect;
export type NewLeg = typeof legs.$inferInsert;
export type LegEvent = typeof legEvents.$inferSelect;
export type NewLegEvent = typeof legEvents.$inferInsert;
