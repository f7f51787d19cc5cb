/** What operators did to legs through the API: each retry or cancel, append-only (migration 0014). */
import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { bytes32 } from './columns.js';
import { legStatusEnum } from './enums.js';
import { legs } from './legs.js';
import { instant } from './timestamps.js';

export const OPERATOR_ACTIONS = ['retry', 'cancel'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

export const legOperatorActions = pgTable(
  'leg_operator_actions',
  {
    id: bigint('id', { mode: 'bigint' }).generatedAlwaysAsIdentity(),
    legId: bytes32('leg_id').notNull(),
    action: text('action').$type<OperatorAction>().notNull(),
    /** Who asked (the API's caller, as the node names it). */
    operator: text('operator').notNull(),
    /** The leg's status when the action was taken. */
    legStatus: legStatusEnum('leg_status').notNull(),
    /** What the node did: the job re-driven, the transition made. */
    outcome: text('outcome').notNull(),
    occurredAt: instant('occurred_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'leg_operator_actions_pkey', columns: [t.id] }),
    foreignKey({ name: 'leg_operator_actions_leg_fk', columns: [t.legId], foreignColumns: [legs.id] }),
    index('leg_operator_actions_leg_idx').on(t.legId),
    check('leg_operator_actions_action_check', sql`${t.action} in ('retry', 'cancel')`),
  ],
);

export type LegOperatorAction = typeof legOperatorActions.$inferSelect;
