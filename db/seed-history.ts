/**
 * A ledger's history, written set-based in SQL (generate_series): closed episodes, one
 * settlement each, two legs per settlement that have ended (credited, or failed, or refunded)
 * with every event of their walk. For the ledger-at-scale test and `bench:orchestrator
 * --ledger-legs`, which must see a big ledger without taking minutes to write one.
 *
 * The rows are written with triggers off (`session_replication_role = replica`, superuser
 * only): the guards would refuse a leg created at any status but `planned`, and walking a
 * million legs through their transitions one by one is what this exists to avoid. The rows keep
 * every invariant those guards check (version = last event's seq, events chained, failed_from).
 */
import { sql } from 'drizzle-orm';
import type { Address } from 'viem';
import type { LedgerDatabase } from './client.js';

export interface LedgerHistory {
  /** Legs to write (rounded up to an even number: two per settlement). */
  readonly legs: number;
  /** The episodes' chain and engine; legs go from `sourceChainId` to it. */
  readonly homeChainId: number;
  readonly sourceChainId: number;
  readonly engine: Address;
  /** Distinct accounts the episodes are spread over. */
  readonly accounts?: number;
}

// Each ended status's walk, as (seq, from, to). 90 in 100 legs are credited, 7 failed when
// submitted, 3 failed after burning and were refunded.
const WALKS = sql.raw(`(values
  ('credited', 1, null, 'planned'), ('credited', 2, 'planned', 'submitted'), ('credited', 3, 'submitted', 'sent'),
  ('credited', 4, 'sent', 'verified'), ('credited', 5, 'verified', 'delivered'), ('credited', 6, 'delivered', 'credited'),
  ('failed', 1, null, 'planned'), ('failed', 2, 'planned', 'submitted'), ('failed', 3, 'submitted', 'failed'),
  ('refunded', 1, null, 'planned'), ('refunded', 2, 'planned', 'submitted'), ('refunded', 3, 'submitted', 'sent'),
  ('refunded', 4, 'sent', 'failed'), ('refunded', 5, 'failed', 'refunded')
) as w(status, seq, from_status, to_status)`);

/**
 * Writes the history in one transaction, then VACUUM ANALYZE: statistics and visibility as
 * autovacuum leaves a ledger that grew over time (and no autovacuum of the new rows later).
 */
export async function seedLedgerHistory(db: LedgerDatabase, history: LedgerHistory): Promise<void> {
  const episodes = Math.ceil(history.legs / 2);
  const accounts = history.accounts ?? 50_000;
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    // Ids are sha256 of a label: never a keccak id the node derives. Episodes far above any real one.
    await tx.execute(sql`
      insert into shortfalls (id, chain_id, engine, account, episode, reason, equity, maintenance, required_amount,
        detected_block, detected_at, status, closed_at, latest_required_amount, latest_equity, latest_maintenance, latest_block, latest_at)
      select '0x' || encode(sha256(('history-shortfall-' || g)::bytea), 'hex'), ${history.homeChainId}, ${history.engine},
        '0x' || lpad(to_hex(g % ${accounts} + 1), 40, '0'), 1000000000000 + g, 'breach', 900, 1000, 200,
        g, now() - interval '30 days' + g * interval '1 second', 'closed', now() - interval '30 days' + g * interval '1 second' + interval '1 minute',
        200, 900, 1000, g, now() - interval '30 days' + g * interval '1 second'
      from generate_series(1, ${episodes}) g`);
    await tx.execute(sql`
      insert into settlements (id, shortfall_id, revision, required_amount, covered_amount, uncovered_amount, planned_cost_usd, plan, created_at)
      select '0x' || encode(sha256(('history-settlement-' || g)::bytea), 'hex'), '0x' || encode(sha256(('history-shortfall-' || g)::bytea), 'hex'),
        0, 200, 200, 0, 1.5, '{}'::jsonb, now() - interval '30 days' + g * interval '1 second'
      from generate_series(1, ${episodes}) g`);
    await tx.execute(sql`
      with written as (insert into legs (id, settlement_id, leg_index, kind, source_chain_id, destination_chain_id, transport, account, amount, relief,
        status, version, failed_from, created_at, updated_at)
      select '0x' || encode(sha256(('history-leg-' || g || '-' || k)::bytea), 'hex'), '0x' || encode(sha256(('history-settlement-' || g)::bytea), 'hex'),
        k, 'collateral', ${history.sourceChainId}, ${history.homeChainId}, 'layerzero', '0x' || lpad(to_hex(g % ${accounts} + 1), 40, '0'), 100, 100,
        s.status::leg_status, s.version, s.failed_from::leg_status, now() - interval '30 days' + g * interval '1 second', now() - interval '30 days' + g * interval '1 second'
      from generate_series(1, ${episodes}) g cross join (values (0), (1)) as i(k)
      cross join lateral (select case when (2 * g + k) % 100 < 90 then 'credited' when (2 * g + k) % 100 < 97 then 'failed' else 'refunded' end as status) p
      cross join lateral (select p.status, case p.status when 'credited' then 6 when 'failed' then 3 else 5 end as version,
        case p.status when 'credited' then null when 'failed' then 'submitted' else 'sent' end as failed_from) s
      returning id, status, created_at)
      insert into leg_events (leg_id, seq, from_status, to_status, occurred_at, recorded_at)
      select l.id, w.seq, w.from_status::leg_status, w.to_status::leg_status, l.created_at + w.seq * interval '5 seconds', l.created_at + w.seq * interval '5 seconds'
      from written l join ${WALKS} on w.status = l.status::text`);
  });
  await db.execute(sql`vacuum analyze`);
}
