import type { Hash } from 'viem';
import type { DecisionRecord, EpisodeAssessment, EpisodeState, RecordSettlementParameters, RecordSettlementReturnType } from '../../db/index.js';
import { decide as coreDecide, type PolicyDecision, type PolicySnapshot, type PolicyTerms } from '../policy/index.js';
import type { Plan } from '../planner/types.js';
import type { WorldSource } from './chain-world.js';
import { nodeSnapshot, revisionRecord } from './node-snapshot.js';

/** How the node prices and paces its decisions (the core's terms, from the node config). */
export interface PolicySettings extends Omit<PolicyTerms, 'homeGasUsd'> {
  /** target in MM_eff (1 + target): the level the required amount restores. */
  readonly target: number;
  /** The volatility a market the watcher did not assess is priced at (per square root of a second). */
  readonly sigmaPrior: number;
  /** Expected seconds from send to credit per transport, for legs in flight. */
  readonly latencySeconds: Readonly<Record<string, number>>;
}

export interface RevisionPlannerOptions {
  readonly worldSource: WorldSource;
  readonly policy: PolicySettings;
  /** Each chain's key, for option ids. */
  readonly chainKeys: ReadonlyMap<number, string>;
  /** How long a leg may take to arrive before its destination refuses it. */
  readonly legDeadlineSeconds?: number;
  readonly recordPlans: (record: RecordSettlementParameters) => Promise<RecordSettlementReturnType>;
  /** Keeps why the core decided to do nothing for an open episode. */
  readonly recordDecision: (decision: DecisionRecord) => Promise<void>;
  /** Told of every plan recorded (for metrics). */
  readonly onPlanned?: (plan: Plan) => void;
  /** The decision core (default: relayer/policy's `decide`); injected, so a test can run the loop on another decision. */
  readonly decide?: (snapshot: PolicySnapshot) => PolicyDecision;
}

/** A source another plan took between our read and our record: read again, this many times. */
const RESERVATION_RETRIES = 3;

export interface PlanOutcome {
  readonly shortfallId: Hash;
  readonly decision: PolicyDecision['kind'];
  readonly revision?: number;
  readonly settlementId?: Hash;
  readonly legs?: number;
  readonly reason?: string;
  readonly uncovered: string;
}

/**
 * One turn of the closed loop for an open episode: read the world, let the core decide, record
 * what it decided as the next revision (reserving the sources it draws on). A revision another
 * job recorded first stands; a source that another plan took meanwhile is read again.
 */
export function revisionPlanner(options: RevisionPlannerOptions) {
  // The watcher's m_eff (1 + target) of the market; for a market it did not assess (a position
  // opened since), the largest m_eff it saw, or m, times (1 + target): never below the engine's.
  const targetFraction = (assessment: EpisodeAssessment) => (market: string, m: number) =>
    assessment.targetFractions[market.toLowerCase()] ?? Math.max(m, assessment.mEff ?? 0) * (1 + options.policy.target);
  // The watcher's EWMA sigma of the market; for a market it did not assess, the prior.
  const sigma = (assessment: EpisodeAssessment) => (market: string) => assessment.sigmas[market.toLowerCase()] ?? options.policy.sigmaPrior;
  const decide = options.decide ?? coreDecide;
  return {
    async planNext(params: { shortfallId: Hash; state: EpisodeState }): Promise<PlanOutcome> {
      const { shortfallId, state } = params;
      for (let attempt = 0; ; attempt++) {
        const world = await options.worldSource.worldFor({ chainId: state.chainId, account: state.account, targetFraction: targetFraction(state.latestAssessment), sigma: sigma(state.latestAssessment) });
        const snapshot = nodeSnapshot({ state, world, chainKey: options.chainKeys.get(state.chainId) ?? String(state.chainId), terms: options.policy, latencySeconds: options.policy.latencySeconds, now: new Date() });
        const decision = decide(snapshot);
        if (decision.kind === 'none') {
          if (decision.reason !== 'not at risk') await options.recordDecision({ shortfallId, reason: decision.reason, uncovered: decision.uncovered, at: new Date() });
          return { shortfallId, decision: decision.kind, reason: decision.reason, uncovered: decision.uncovered.toString() };
        }
        const record = revisionRecord({ shortfallId, revision: state.nextRevision, state, world, decision, deadline: new Date(Date.now() + (options.legDeadlineSeconds ?? 3_600) * 1_000) });
        const recorded = await options.recordPlans(record);
        if (recorded.refused && attempt < RESERVATION_RETRIES) continue;
        if (recorded.refused) return { shortfallId, decision: decision.kind, reason: `source ${recorded.refused.source} on chain ${recorded.refused.sourceChainId} was taken by other plans`, uncovered: decision.need.toString() };
        if (recorded.created && decision.kind === 'plan') options.onPlanned?.(decision.plan);
        return {
          shortfallId,
          decision: decision.kind,
          revision: state.nextRevision,
          settlementId: recorded.settlementId,
          legs: recorded.legIds.length,
          ...(recorded.created ? {} : { reason: 'the revision was recorded by another job' }),
          uncovered: decision.uncovered.toString(),
        };
      }
    },
  };
}
