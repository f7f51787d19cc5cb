/**
 * On a ledger holding 100,000 ended legs (and their 560,000 events, 50,000 episodes), every query
 * the orchestrator runs per shortfall, settlement and leg reads the big tables through an index:
 * the plans Postgres executes (EXPLAIN (FORMAT JSON) of each statement, the guards' nested ones
 * included, through auto_explain) hold no Seq Scan on them. A test on the plans' shape, not on
 * time: a query that scans the history gets slower as the ledger grows, whatever it costs today.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerDatabase } from '../../db/client.js';
import {
  episodeStates,
  getLeg,
  legsInStatus,
  listLegEvents,
  openEpisodesAtRest,
  recordAssessments,
  recordDecision,
  recordLegAttempt,
  recordSettlements,
  recordShortfalls,
  transitionLeg,
} from '../../db/ledger/index.js';
import * as schema from '../../db/schema/index.js';
import { seedLedgerHistory } from '../../db/seed-history.js';
import { ALPHA, BETA, ENGINE, accountOf, collateralLeg, liquidityLeg, seedChains } from './support/fixtures.js';
import { connect, createMigratedLedger } from './support/test-database.js';

const HISTORY_LEGS = 100_000;
const BIG_TABLES = new Set(['shortfalls', 'settlements', 'legs', 'leg_events']);

let cleanup: () => Promise<void>;
let client: pg.Client;
let db: LedgerDatabase;
const plans: { query: string; plan: unknown }[] = [];

beforeAll(async () => {
  const created = await createMigratedLedger();
  cleanup = created.cleanup;
  await seedChains(created.ledger.db);
  await seedLedgerHistory(created.ledger.db, { legs: HISTORY_LEGS, homeChainId: ALPHA, sourceChainId: BETA, engine: ENGINE });
  // One session that reports the plan of every statement it executes, nested ones too.
  client = await connect(created.database.url);
  client.on('notice', (notice) => {
    const text = notice.message ?? '';
    const at = text.indexOf('{');
    if (!text.includes('plan:') || at < 0) return;
    const explained = JSON.parse(text.slice(at)) as { 'Query Text'?: string; Plan: unknown };
    plans.push({ query: explained['Query Text'] ?? '', plan: explained.Plan });
  });
  for (const setting of ["load 'auto_explain'", 'set auto_explain.log_min_duration = 0', "set auto_explain.log_format = 'json'", 'set auto_explain.log_nested_statements = on', "set auto_explain.log_level = 'notice'"]) {
    await client.query(setting);
  }
  db = drizzle(client, { schema }) as unknown as LedgerDatabase;
}, 300_000);

afterAll(async () => {
  await client?.end();
  await cleanup?.();
});

/** Every (node type, relation) of a plan tree. */
function scans(node: unknown): { type: string; relation?: string }[] {
  if (typeof node !== 'object' || node === null) return [];
  const n = node as { 'Node Type'?: string; 'Relation Name'?: string; Plans?: unknown[] };
  return [{ type: n['Node Type'] ?? '', ...(n['Relation Name'] ? { relation: n['Relation Name'] } : {}) }, ...(n.Plans ?? []).flatMap(scans)];
}

/** The hot path of one shortfall: intake, state, plan with reservations, every leg step, a decision, a reassessment, the sweeps. */
async function runHotPath(): Promise<void> {
  const reports = Array.from({ length: 8 }, (_, i) => ({
    chainId: ALPHA,
    engine: ENGINE,
    account: accountOf(10 + i),
    episode: 1n,
    reason: 'breach' as const,
    equity: 900n,
    maintenance: 1_000n,
    requiredAmount: 300n,
    detectedBlock: 10n,
    detectedAt: new Date(),
    detail: { mEff: 0.05 },
  }));
  const recorded = await recordShortfalls(db, reports);
  const ids = recorded.map(({ id }) => id);
  await episodeStates(db, ids);
  const reservation = { capacity: 1_000_000n, observedBlock: 5n };
  const settlements = await recordSettlements(
    db,
    ids.map((shortfallId, i) => ({
      shortfallId,
      revision: 0,
      requiredAmount: 300n,
      coveredAmount: 300n,
      plannedCostUsd: '1',
      plan: {},
      legs: [collateralLeg(100n, { account: accountOf(10 + i), reservation }), liquidityLeg(100n, { account: accountOf(10 + i), reservation })],
    })),
  );
  await recordSettlements(db, [{ shortfallId: ids[0] as Hash, revision: 0, requiredAmount: 300n, coveredAmount: 300n, plannedCostUsd: '1', plan: {}, legs: [collateralLeg(100n, { reservation })] }]);
  await episodeStates(db, ids);
  const legId = settlements[0]?.legIds[0] as Hash;
  await recordLegAttempt(db, { legId, status: 'planned', error: 'rpc timeout' });
  const steps = [['planned', 'submitted'], ['submitted', 'sent'], ['sent', 'verified'], ['verified', 'delivered'], ['delivered', 'credited']] as const;
  for (const [from, to] of steps) await transitionLeg(db, { legId, from, to, evidence: { txHash: `0x${'ab'.repeat(32)}`, blockNumber: 12n } });
  await transitionLeg(db, { legId: settlements[1]?.legIds[0] as Hash, from: 'planned', to: 'failed', error: 'refused' });
  await getLeg(db, legId);
  await listLegEvents(db, legId);
  await recordDecision(db, { shortfallId: ids[1] as Hash, reason: 'no source can cover it', uncovered: 10n, at: new Date() });
  await recordAssessments(db, [{ shortfallId: ids[2] as Hash, requiredAmount: 250n, equity: 950n, maintenance: 1_000n, mEff: 0.05, targetFractions: {}, block: 11n, at: new Date() }]);
  await legsInStatus(db, { statuses: ['planned', 'submitted', 'sent', 'verified', 'delivered'], limit: 500 });
  await openEpisodesAtRest(db, { quietMs: 0 });
}

describe('a ledger holding 100,000 ended legs', () => {
  it('runs the hot path of a shortfall with no sequential scan of a big table', async () => {
    await runHotPath();
    const seqScans = plans.flatMap(({ query, plan }) =>
      scans(plan)
        .filter(({ type, relation }) => type === 'Seq Scan' && relation !== undefined && BIG_TABLES.has(relation))
        .map(({ relation }) => `${relation}: ${query.replace(/\s+/g, ' ').slice(0, 160)}`),
    );
    // The statements were explained (the guards' nested ones among them), not skipped.
    expect(plans.length).toBeGreaterThan(30);
    expect(plans.some(({ query }) => query.includes('FROM "leg_events" e WHERE e.leg_id = NEW.id'))).toBe(true);
    expect(seqScans).toEqual([]);
  });
});
