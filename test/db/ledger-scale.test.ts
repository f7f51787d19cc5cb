/**
 * The ledger's guards cost the same however many legs it holds: each new leg's commit-time check
 * reads its own event by the unique (leg_id, seq) key. Measured in event rows the check fetches
 * through an index (Postgres' per-transaction statistics), not in time: with the check stated as one predicate
 * over (leg_id, seq, to_status), the planner, with statistics from when the ledger was young,
 * scans the (to_status, occurred_at) index and reads every 'planned' event for each new leg
 * (40,075 rows for the 10 legs here, against fewer than 100 by the key).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerDatabase } from '../../db/client.js';
import { recordSettlement, type PlannedLeg } from '../../db/ledger/index.js';
import { collateralLeg, createPlan, seedChains } from './support/fixtures.js';
import { createMigratedLedger } from './support/test-database.js';

/** Legs already in the ledger: enough that a scan of its planned events dwarfs a key lookup. */
const SEEDED_LEGS = 4_000;
/** Legs one plan adds: past the 5 runs after which PL/pgSQL may switch to a generic plan. */
const NEW_LEGS = 10;

let db: LedgerDatabase;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const created = await createMigratedLedger();
  ({ cleanup } = created);
  ({ db } = created.ledger);
  await seedChains(db);
  // Statistics taken on a young ledger, as a node's are until autovacuum next looks.
  await createPlan(db, { legs: [collateralLeg(1n)] });
  await db.execute(sql`analyze`);
  const legs: PlannedLeg[] = Array.from({ length: SEEDED_LEGS }, () => collateralLeg(1n));
  await createPlan(db, { legs });
}, 120_000);

afterAll(async () => {
  await cleanup?.();
});

/** Rows of `leg_events` fetched through its indexes in the current transaction so far. */
async function eventIndexReads(tx: LedgerDatabase): Promise<number> {
  const { rows } = await tx.execute<{ reads: string }>(sql`select coalesce(sum(idx_tup_fetch), 0)::text as reads from pg_stat_xact_user_tables where relname = 'leg_events'`);
  return Number(rows[0]?.reads ?? 0);
}

describe('a ledger holding thousands of legs', () => {
  it("checks a new leg's event by its key: a handful of event rows read, not every planned one", async () => {
    const { shortfallId } = await createPlan(db, { legs: [collateralLeg(5n)] });
    let reads = Number.NaN;
    await db.transaction(async (tx) => {
      const before = await eventIndexReads(tx);
      await recordSettlement(tx, { shortfallId, revision: 1, requiredAmount: 50n, coveredAmount: 50n, plannedCostUsd: '1', plan: {}, legs: Array.from({ length: NEW_LEGS }, () => collateralLeg(5n)) });
      // The check is deferred to commit: run it now, inside the transaction, to count what it reads.
      await tx.execute(sql`set constraints all immediate`);
      reads = (await eventIndexReads(tx)) - before;
    });
    // The writer's own lookups and the check: each by (leg_id, seq), a row or two each.
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThan(NEW_LEGS * 10);
  });
});
