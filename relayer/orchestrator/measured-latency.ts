import { sql } from 'drizzle-orm';
import type { LedgerDatabase } from '../../db/index.js';

/** How many recent credited legs of a route the average looks at. */
const WINDOW = 50;
/** How much the configured prior weighs, in legs: a few measurements move it, one does not. */
const PRIOR_WEIGHT = 5;

/**
 * A route's expected seconds from send to credit: the configured prior, moved toward what the
 * ledger measured on the route's last legs (source transaction to credit, block times).
 */
export async function measuredLatency(params: { ledger: LedgerDatabase; sourceChainId: number; destinationChainId: number; transport: string; prior: number }): Promise<number> {
  const [row] = (
    await params.ledger.execute<{ n: string; total: string | null }>(sql`
      select count(*)::text as n, sum(seconds)::text as total from (
        select extract(epoch from (c.occurred_at - s.occurred_at)) as seconds
        from legs l
        join leg_events s on s.leg_id = l.id and s.to_status = 'sent'
        join leg_events c on c.leg_id = l.id and c.to_status = 'credited'
        where l.source_chain_id = ${params.sourceChainId} and l.destination_chain_id = ${params.destinationChainId}
          and l.transport = ${params.transport} and l.status = 'credited'
        order by c.occurred_at desc
        limit ${WINDOW}) recent`)
  ).rows;
  const n = Number(row?.n ?? 0);
  const total = Math.max(0, Number(row?.total ?? 0));
  return (params.prior * PRIOR_WEIGHT + total) / (PRIOR_WEIGHT + n);
}
