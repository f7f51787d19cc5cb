/**
 * Reconciliation: each run checks the ledger against the chains. What does not match becomes
 * a finding (resolved later, never deleted); each leg a run found consistent is recorded in
 * `reconciled_legs`, which the unreconciled-legs report reads.
 */
import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, jsonb, pgEnum, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { bytes32, messageIdCheck, tokenAmount } from './columns.js';
import { chains } from './chains.js';
import { legs } from './legs.js';
import { instant } from './timestamps.js';

export const RECONCILIATION_STATUSES = ['running', 'passed', 'failed', 'aborted'] as const;
export const FINDING_KINDS = [
  'missing_delivery',
  'duplicate_delivery',
  'amount_mismatch',
  'unknown_message',
  'stuck_leg',
  'supply_mismatch',
  'ledger_chain_mismatch',
  /** A destination vault refused a delivery: a forged or invalid message, or a leg refused for good. */
  'refused_delivery',
] as const;
export const FINDING_SEVERITIES = ['info', 'warning', 'critical'] as const;

export const reconciliationStatusEnum = pgEnum('reconciliation_status', RECONCILIATION_STATUSES);
export const findingKindEnum = pgEnum('finding_kind', FINDING_KINDS);
export const findingSeverityEnum = pgEnum('finding_severity', FINDING_SEVERITIES);

export const reconciliationRuns = pgTable(
  'reconciliation_runs',
  {
    id: bigint('id', { mode: 'bigint' }).generatedAlwaysAsIdentity(),
    status: reconciliationStatusEnum('status').notNull().default('running'),
    /** The node that ran it. */
    node: text('node'),
    /** What was checked: chains and block ranges. */
    scope: jsonb('scope').$type<Record<string, unknown>>().notNull().default({}),
    summary: jsonb('summary').$type<Record<string, unknown>>().notNull().default({}),
    startedAt: instant('started_at').notNull().defaultNow(),
    finishedAt: instant('finished_at'),
  },
  (t) => [
    primaryKey({ name: 'reconciliation_runs_pkey', columns: [t.id] }),
    index('reconciliation_runs_started_at_idx').on(t.startedAt),
    check('reconciliation_runs_finished_check', sql`(${t.status} = 'running') = (${t.finishedAt} is null)`),
  ],
);

export const reconciliationFindings = pgTable(
  'reconciliation_findings',
  {
    id: bigint('id', { mode: 'bigint' }).generatedAlwaysAsIdentity(),
    runId: bigint('run_id', { mode: 'bigint' }).notNull(),
    kind: findingKindEnum('kind').notNull(),
    severity: findingSeverityEnum('severity').notNull(),
    chainId: bigint('chain_id', { mode: 'number' }),
    legId: bytes32('leg_id'),
    messageId: text('message_id'),
    /** Amounts in base units: what the ledger says, what the chain says. */
    expected: tokenAmount('expected'),
    actual: tokenAmount('actual'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: instant('created_at').notNull().defaultNow(),
    resolvedAt: instant('resolved_at'),
    resolution: text('resolution'),
  },
  (t) => [
    primaryKey({ name: 'reconciliation_findings_pkey', columns: [t.id] }),
    foreignKey({ name: 'reconciliation_findings_run_fk', columns: [t.runId], foreignColumns: [reconciliationRuns.id] }),
    foreignKey({ name: 'reconciliation_findings_chain_fk', columns: [t.chainId], foreignColumns: [chains.chainId] }),
    foreignKey({ name: 'reconciliation_findings_leg_fk', columns: [t.legId], foreignColumns: [legs.id] }),
    index('reconciliation_findings_run_idx').on(t.runId),
    index('reconciliation_findings_leg_idx').on(t.legId),
    index('reconciliation_findings_open_leg_idx').on(t.legId).where(sql`${t.resolvedAt} is null`),
    messageIdCheck(t.messageId),
    check('reconciliation_findings_resolution_check', sql`(${t.resolvedAt} is null) = (${t.resolution} is null)`),
  ],
);

/** Legs a run found consistent with the chains: left, arrived once, in full. */
export const reconciledLegs = pgTable(
  'reconciled_legs',
  {
    legId: bytes32('leg_id').notNull(),
    runId: bigint('run_id', { mode: 'bigint' }).notNull(),
    reconciledAt: instant('reconciled_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'reconciled_legs_pkey', columns: [t.legId, t.runId] }),
    foreignKey({ name: 'reconciled_legs_leg_fk', columns: [t.legId], foreignColumns: [legs.id] }),
    foreignKey({ name: 'reconciled_legs_run_fk', columns: [t.runId], foreignColumns: [reconciliationRuns.id] }),
    index('reconciled_legs_run_idx').on(t.runId),
  ],
);

export type ReconciliationRun = typeof reconciliationRuns.$inferSelect;
export type NewReconciliationRun = typeof reconciliationRuns.$inferInsert;
export type ReconciliationFinding = typeof reconciliationFindings.$inferSelect;
export type NewReconciliationFinding = typeof reconciliationFindings.$inferInsert;
export type ReconciledLeg = typeof reconciledLegs.$inferSelect;
export type FindingKind = (typeof FINDING_KINDS)[number];
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];
