/**
 * What a plan job does, without the queues: the shortfall recorded from its report, then one
 * decision of the core over `worldSource`, recorded as the episode's next revision. For tests
 * that need a plan in the ledger (an earlier run of a job, a leg to run by hand).
 */
import type { Hash } from 'viem';
import { episodeStates, recordDecision, recordSettlement, recordShortfall, type LedgerDatabase } from '../../../db/index.js';
import type { WorldSource } from '../../../relayer/orchestrator/chain-world.js';
import { defaultPolicySettings } from '../../../relayer/orchestrator/fixed-world.js';
import { revisionPlanner, type PlanOutcome, type PolicySettings } from '../../../relayer/orchestrator/revision-planner.js';
import { shortfallRecord, shortfallReportSchema, type ShortfallReport } from '../../../relayer/orchestrator/shortfall-report.js';

export interface RecordedRevision {
  readonly shortfallId: Hash;
  readonly outcome: PlanOutcome;
  /** The legs of the revision recorded (empty when the core decided nothing). */
  readonly legIds: readonly Hash[];
}

export async function recordRevision(params: {
  ledger: LedgerDatabase;
  report: ShortfallReport;
  worldSource: WorldSource;
  policy?: PolicySettings;
  chainKeys?: ReadonlyMap<number, string>;
  legDeadlineSeconds?: number;
}): Promise<RecordedRevision> {
  const { ledger } = params;
  const { shortfall } = await recordShortfall(ledger, shortfallRecord(shortfallReportSchema.parse(params.report)));
  const state = (await episodeStates(ledger, [shortfall.id])).get(shortfall.id);
  if (!state) throw new Error(`shortfall ${shortfall.id} is not in the ledger`);
  let legIds: readonly Hash[] = [];
  const planner = revisionPlanner({
    worldSource: params.worldSource,
    policy: params.policy ?? defaultPolicySettings,
    chainKeys: params.chainKeys ?? new Map(),
    ...(params.legDeadlineSeconds === undefined ? {} : { legDeadlineSeconds: params.legDeadlineSeconds }),
    recordPlans: async (record) => {
      const recorded = await recordSettlement(ledger, record);
      legIds = recorded.legIds;
      return recorded;
    },
    recordDecision: (decision) => recordDecision(ledger, decision),
  });
  const outcome = await planner.planNext({ shortfallId: shortfall.id, state });
  return { shortfallId: shortfall.id, outcome, legIds };
}
