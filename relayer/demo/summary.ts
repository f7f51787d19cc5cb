import { sql } from 'drizzle-orm';
import type { LedgerDatabase } from '../../db/index.js';

export interface RouteSummary {
  readonly route: string;
  readonly kind: string;
  readonly transport: string;
  readonly legs: number;
  /** Collateral base units credited. */
  readonly amount: bigint;
  /** Gas and messaging fees paid, in wei of the source chain's native token. */
  readonly feesWei: bigint;
  /** Mean seconds from the source transaction to the credit (block times). */
  readonly latencySeconds: number | null;
}

/** Per route (source -> destination, kind, transport): credited legs, amount, fees, latency. */
export async function routeSummary(db: LedgerDatabase): Promise<RouteSummary[]> {
  const rows = await db.execute<{ source: string; destination: string; kind: string; transport: string; legs: string; amount: string; fees: string; latency: string | null }>(sql`
    select sc.key as source, dc.key as destination, l.kind::text as kind, coalesce(l.transport::text, 'local') as transport,
           count(*)::text as legs, sum(l.amount)::text as amount,
           coalesce(sum((select sum(e.fee) from leg_events e where e.leg_id = l.id)), 0)::text as fees,
           avg(extract(epoch from (c.occurred_at - s.occurred_at)))::text as latency
    from legs l
    join chains sc on sc.chain_id = l.source_chain_id
    join chains dc on dc.chain_id = l.destination_chain_id
    left join leg_events s on s.leg_id = l.id and s.to_status = 'sent'
    left join leg_events c on c.leg_id = l.id and c.to_status = 'credited'
    where l.status = 'credited'
    group by 1, 2, 3, 4
    order by 1, 2, 3, 4`);
  return rows.rows.map((row) => ({
    route: row.source === row.destination ? row.source : `${row.source} -> ${row.destination}`,
    kind: row.kind,
    transport: row.transport,
    legs: Number(row.legs),
    amount: BigInt(row.amount),
    feesWei: BigInt(row.fees.split('.')[0] ?? '0'),
    latencySeconds: row.latency === null ? null : Number(row.latency),
  }));
}

export interface DemoProgress {
  readonly shortfalls: number;
  readonly open: number;
  readonly settlements: Readonly<Record<string, number>>;
  readonly legs: Readonly<Record<string, number>>;
  readonly uncovered: bigint;
}

/** Where the demo is: shortfalls, settlements by status, legs by status. */
export async function demoProgress(db: LedgerDatabase): Promise<DemoProgress> {
  const [shortfalls] = (await db.execute<{ total: string; open: string }>(sql`select count(*)::text as total, (count(*) filter (where status = 'open'))::text as open from shortfalls`)).rows;
  const settlements = (await db.execute<{ status: string; count: string }>(sql`select status, count(*)::text as count from report_settlement_status group by status`)).rows;
  const legs = (await db.execute<{ status: string; count: string }>(sql`select status::text, count(*)::text as count from legs group by status`)).rows;
  const [uncovered] = (await db.execute<{ total: string }>(sql`select coalesce(sum(uncovered_amount), 0)::text as total from settlements`)).rows;
  return {
    shortfalls: Number(shortfalls?.total ?? 0),
    open: Number(shortfalls?.open ?? 0),
    settlements: Object.fromEntries(settlements.map((r) => [r.status, Number(r.count)])),
    legs: Object.fromEntries(legs.map((r) => [r.status, Number(r.count)])),
    uncovered: BigInt(uncovered?.total ?? '0'),
  };
}
