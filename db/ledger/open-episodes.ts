/**
 * Open episodes with nothing in flight: every leg of every revision has ended (or none was
 * planned). The closed loop looks at these again on a schedule, so a failed or refunded leg, or
 * a trigger lost in a crash, never leaves an account at risk with nobody acting on it.
 */
import { sql } from 'drizzle-orm';
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { LEG_ENDED_STATUSES } from '../leg-state-machine.js';

const ENDED = sql.raw(LEG_ENDED_STATUSES.map((status) => `'${status}'`).join(', '));

/** `quietMs`: an episode detected more recently has its first plan job still to run; it is not at rest yet. */
export async function openEpisodesAtRest(db: LedgerExecutor, params: { quietMs: number; limit?: number }): Promise<Hash[]> {
  const result = await db.execute<{ id: Hash }>(sql`
    select s.id from shortfalls s
    where s.status = 'open' and s.detected_at < now() - make_interval(secs => ${params.quietMs / 1000}) and not exists (
      select 1 from settlements t join legs l on l.settlement_id = t.id
      where t.shortfall_id = s.id and l.status::text not in (${ENDED}))
    order by s.detected_at
    limit ${params.limit ?? 10_000}`);
  return result.rows.map((row) => row.id);
}
