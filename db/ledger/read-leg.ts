/** Reads a leg and its audit trail. */
import { asc, eq } from 'drizzle-orm';
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { legEvents, legs, type Leg, type LegEvent } from '../schema/legs.js';

export async function getLeg(db: LedgerExecutor, legId: Hash): Promise<Leg | undefined> {
  const [leg] = await db.select().from(legs).where(eq(legs.id, legId));
  return leg;
}

/** The leg's events in order: seq 1 is its planning, each next one a transition. */
export async function listLegEvents(db: LedgerExecutor, legId: Hash): Promise<LegEvent[]> {
  return db.select().from(legEvents).where(eq(legEvents.legId, legId)).orderBy(asc(legEvents.seq));
}
