/**
 * The orchestrator's read from before revisions, kept until it moves to `episodeStates`
 * (db/ledger/episode-state.ts), from which it is derived: whether the episode is open, and its
 * revision 0 if recorded.
 */
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { episodeStates } from './episode-state.js';

export interface PlanState {
  readonly open: boolean;
  readonly settlement?: { readonly settlementId: Hash; readonly legIds: readonly Hash[] };
}

/**
 * Shortfalls the ledger does not have are absent from the map.
 * @deprecated revision 0 only: use `episodeStates`, which gives every revision.
 */
export async function planStates(db: LedgerExecutor, ids: readonly Hash[]): Promise<Map<Hash, PlanState>> {
  const states = await episodeStates(db, ids);
  return new Map(
    [...states].map(([id, state]) => {
      const first = state.revisions.find(({ revision }) => revision === 0);
      return [id, { open: state.open, ...(first ? { settlement: { settlementId: first.settlementId, legIds: first.legIds } } : {}) }];
    }),
  );
}
