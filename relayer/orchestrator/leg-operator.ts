import type { Hash } from 'viem';
import { getLeg, recordOperatorAction, transitionLeg, type LedgerDatabase, type LegOperatorAction, type LegStatus } from '../../db/index.js';
import type { Queues } from './queues.js';
import { redriveLeg } from './stuck-leg-sweeper.js';

/** What an operator's retry or cancel came to: done (and recorded), refused for the leg's status, or no such leg. */
export type LegActionResult =
  | { readonly outcome: 'done'; readonly status: LegStatus; readonly record: LegOperatorAction }
  | { readonly outcome: 'conflict'; readonly status: LegStatus; readonly reason: string }
  | { readonly outcome: 'not-found' };

/** An operator's hands on one leg (the API's `POST /v1/legs/:id/retry` and `/cancel`). */
export interface LegOperator {
  retry(params: { legId: Hash; operator: string }): Promise<LegActionResult>;
  cancel(params: { legId: Hash; operator: string }): Promise<LegActionResult>;
}

/** Statuses a job still has to move a leg out of: a retry re-drives that job (stuck-leg-sweeper.ts). */
const RETRYABLE: readonly LegStatus[] = ['submitted', 'sent', 'verified', 'delivered'];
/** Not executed on the destination yet: a cancel fails the leg (and a refund is owed once its source burned). */
const CANCELABLE: readonly LegStatus[] = ['planned', 'submitted', 'sent', 'verified'];

/**
 * Retry re-drives the leg's job exactly as the stuck-leg sweeper would (added again if gone,
 * retried afresh if failed, left alone if alive; a delivery past its deadline is left to
 * reconciliation's refund), so an operator can never make a leg send twice. Cancel fails the
 * leg through the state machine; its jobs then find it failed and stop, and reconciliation
 * refunds what its source burned once the deadline has passed. Each action is recorded.
 */
export function legOperator(params: { ledger: LedgerDatabase; queues: Queues; chainTime: (chainId: number) => Promise<Date> }): LegOperator {
  const { ledger, queues } = params;
  return {
    async retry({ legId, operator }) {
      const leg = await getLeg(ledger, legId);
      if (leg === undefined) return { outcome: 'not-found' };
      if (!RETRYABLE.includes(leg.status)) return { outcome: 'conflict', status: leg.status, reason: retryRefusal(leg.status) };
      const redriven = await redriveLeg({ leg, queues, now: params.chainTime });
      if (redriven === 'expired') return { outcome: 'conflict', status: leg.status, reason: 'its deadline has passed on the destination: reconciliation refunds it' };
      const outcome = redriven === undefined ? 'its job is alive: left to run' : `${redriven.job} job re-driven (it was ${redriven.was})`;
      return { outcome: 'done', status: leg.status, record: await recordOperatorAction(ledger, { legId, action: 'retry', operator, legStatus: leg.status, outcome }) };
    },
    async cancel({ legId, operator }) {
      const leg = await getLeg(ledger, legId);
      if (leg === undefined) return { outcome: 'not-found' };
      if (!CANCELABLE.includes(leg.status)) return { outcome: 'conflict', status: leg.status, reason: `a ${leg.status} leg cannot be canceled` };
      return ledger.transaction(async (tx): Promise<LegActionResult> => {
        const moved = await transitionLeg(tx, { legId, from: leg.status, to: 'failed', error: `canceled by operator ${operator}`, actor: `operator ${operator}` });
        if (moved.outcome === 'lost') return { outcome: 'conflict', status: moved.current, reason: `the leg moved on to ${moved.current} meanwhile` };
        const outcome = `failed from ${leg.status}${leg.status === 'sent' || leg.status === 'verified' ? ': refunded by reconciliation after its deadline' : ''}`;
        return { outcome: 'done', status: 'failed', record: await recordOperatorAction(tx, { legId, action: 'cancel', operator, legStatus: leg.status, outcome }) };
      });
    },
  };
}

function retryRefusal(status: LegStatus): string {
  switch (status) {
    case 'credited':
    case 'refunded':
      return `the leg is ${status}: there is nothing left to retry`;
    case 'failed':
      return 'the leg failed: reconciliation refunds it if its source burned the amount';
    default:
      return `the leg is ${status}: its flow has not started it yet`;
  }
}
