/**
 * A settlement is one sourcing plan for one shortfall: the planner's output kept verbatim
 * (jsonb), its cost, and how much of the requirement it covers. A replan is a new revision.
 */
import { sql } from 'drizzle-orm';
import { check, foreignKey, index, integer, jsonb, numeric, pgTable, primaryKey, uniqueIndex } from 'drizzle-orm/pg-core';
import { bytes32, hexCheck, nonNegative, tokenAmount } from './columns.js';
import { shortfalls } from './shortfalls.js';
import { instant } from './timestamps.js';

export const settlements = pgTable(
  'settlements',
  {
    id: bytes32('id').notNull(),
    shortfallId: bytes32('shortfall_id').notNull(),
    revision: integer('revision').notNull(),
    requiredAmount: tokenAmount('required_amount').notNull(),
    coveredAmount: tokenAmount('covered_amount').notNull(),
    uncoveredAmount: tokenAmount('uncovered_amount').notNull(),
    /** The planner's objective in USD: an estimate, so decimal rather than base units. */
    plannedCostUsd: numeric('planned_cost_usd', { precision: 30, scale: 6 }).notNull(),
    plan: jsonb('plan').$type<Record<string, unknown>>().notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'settlements_pkey', columns: [t.id] }),
    foreignKey({ name: 'settlements_shortfall_fk', columns: [t.shortfallId], foreignColumns: [shortfalls.id] }),
    uniqueIndex('settlements_shortfall_revision_key').on(t.shortfallId, t.revision),
    index('settlements_created_at_idx').on(t.createdAt),
    hexCheck(t.id, 32),
    nonNegative(t.requiredAmount),
    nonNegative(t.coveredAmount),
    nonNegative(t.uncoveredAmount),
    check('settlements_cover_check', sql`${t.coveredAmount} + ${t.uncoveredAmount} = ${t.requiredAmount}`),
    check('settlements_revision_check', sql`${t.revision} >= 0`),
  ],
);

export type Settlement = typeof settlements.$inferSelect;
export type NewSettlement = typeof settlements.$inferInsert;
