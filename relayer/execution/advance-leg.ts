import type { Hash } from 'viem';
import { LEG_STATUSES, transitionLeg, type LegEvidence, type LegStatus } from '../../db/index.js';
import { RelayerError } from '../errors.js';
import type { ExecutionContext } from './execution-context.js';

const rank = (status: LegStatus): number => LEG_STATUSES.indexOf(status);

/**
 * Moves a leg one step, with its evidence. Losing the race to another worker that already
 * made this step (or a later one) is success; finding the leg anywhere else is an error.
 */
export async function advanceLeg(context: ExecutionContext, params: { legId: Hash; from: LegStatus; to: LegStatus; evidence?: LegEvidence; error?: string }): Promise<void> {
  const result = await transitionLeg(context.ledger, { ...params, actor: context.actor });
  if (result.outcome === 'applied') return;
  const { current } = result;
  const progressed = current !== 'failed' && current !== 'refunded' && rank(current) >= rank(params.to);
  if (!progressed) {
    throw new RelayerError(`leg ${params.legId} is ${current}, expected ${params.from} -> ${params.to}`, { retryable: true });
  }
}
