/**
 * Legs the ledger has in progress (between planned and an end), a page at a time: what the
 * stuck-leg sweeper (relayer/orchestrator/stuck-leg-sweeper.ts) holds against the job queues.
 */
import { and, asc, gt, inArray } from 'drizzle-orm';
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import type { LegStatus } from '../leg-state-machine.js';
import { legs, type Leg } from '../schema/legs.js';

export type LegInProgress = Pick<Leg, 'id' | 'status' | 'kind' | 'transport' | 'sourceChainId' | 'destinationChainId' | 'deadline'>;

/** Up to `limit` legs in one of `statuses`, in id order after `afterId` (keyset paging). */
export async function legsInStatus(
  db: LedgerExecutor,
  params: { readonly statuses: readonly LegStatus[]; readonly limit: number; readonly afterId?: Hash },
): Promise<LegInProgress[]> {
  const inStatus = inArray(legs.status, [...params.statuses]);
  return db
    .select({ id: legs.id, status: legs.status, kind: legs.kind, transport: legs.transport, sourceChainId: legs.sourceChainId, destinationChainId: legs.destinationChainId, deadline: legs.deadline })
    .from(legs)
    .where(params.afterId === undefined ? inStatus : and(inStatus, gt(legs.id, params.afterId)))
    .orderBy(asc(legs.id))
    .limit(params.limit);
}
