/** An operator's action on a leg (API retry or cancel), appended to the ledger's trail. */
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import type { LegStatus } from '../leg-state-machine.js';
import { legOperatorActions, type LegOperatorAction, type OperatorAction } from '../schema/operator-actions.js';

export async function recordOperatorAction(
  db: LedgerExecutor,
  params: { legId: Hash; action: OperatorAction; operator: string; legStatus: LegStatus; outcome: string },
): Promise<LegOperatorAction> {
  const [row] = await db.insert(legOperatorActions).values(params).returning();
  if (row === undefined) throw new Error(`recording the ${params.action} of leg ${params.legId} returned no row`);
  return row;
}
