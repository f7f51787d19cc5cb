/**
 * The node's side of the decision core (DESIGN.md section 7b): the snapshot of one open
 * episode, filled from the ledger (the watcher's latest assessment, the legs in flight, the
 * routes that already failed) and the chains (the engine's view, positions, sources net of
 * reservations), and the core's decision turned into the ledger's revision. Nothing is
 * decided here.
 */
import type { Address, Hash } from 'viem';
import { abs, VALUE_SCALE } from '../../chains/protocol/units.js';
import { hasLegEnded, type EpisodeAssessment, type EpisodeState, type PlannedLeg, type RecordSettlementParameters } from '../../db/index.js';
import type { PolicyDecision, PolicyInFlight, PolicySnapshot, PolicyTerms } from '../policy/index.js';
import { sourceKey, type AccountWorld } from './chain-world.js';

export interface NodeSnapshotParameters {
  readonly state: EpisodeState;
  readonly world: AccountWorld;
  readonly chainKey: string;
  readonly terms: Omit<PolicyTerms, 'homeGasUsd'>;
  /** Expected seconds from send to credit per transport, for legs in flight. */
  readonly latencySeconds: Readonly<Record<string, number>>;
  readonly now: Date;
}

export function nodeSnapshot(params: NodeSnapshotParameters): PolicySnapshot {
  const { state, world, now } = params;
  // The watcher's last required amount may predate a credit or a close the engine already shows,
  // and a leg that landed must not be planned twice: it is moved by what the engine shows since
  // (the equity one for one; the target level with the maintenance margin, which a close or a
  // takeover lowers while its equity barely moves), and compared with the target level of the
  // positions now (at the watcher's m_eff); the larger stands, as a stale view never counts as healthy.
  const latest = state.latestAssessment;
  const targetLevel = world.positions.reduce((sum, position) => sum + Number(position.notional) * position.targetFraction, 0);
  const sinceWatcher = latest.requiredAmount - (world.health.equity - latest.equity) + targetLevelMoved(world, latest, targetLevel);
  const fromPositions = BigInt(Math.ceil(targetLevel)) - world.health.equity;
  const required = sinceWatcher > fromPositions ? sinceWatcher : fromPositions;
  const legs = state.revisions.flatMap((revision) => revision.legs);
  const inFlight: PolicyInFlight[] = legs
    .filter((leg) => !hasLegEnded(leg.status))
    .map((leg) => {
      if (leg.kind === 'local') return { kind: 'local' as const, relief: leg.relief, etaSeconds: 0 };
      // An auction on the account's own chain: due whenever a keeper takes it; held in flight until it fills or fails.
      if (leg.kind === 'auction' || leg.transport === null) return { kind: 'auction' as const, relief: leg.relief, etaSeconds: 0 };
      const expected = params.latencySeconds[leg.transport] ?? 0;
      const remaining = expected - (now.getTime() - leg.createdAt.getTime()) / 1000;
      // Overdue: no longer expected soon, so it does not hold back a home action.
      return { kind: leg.kind, relief: leg.relief, etaSeconds: remaining > 0 ? remaining : expected };
    });
  const avoid = legs.flatMap((leg) =>
    (leg.status === 'failed' || leg.status === 'refunded') && (leg.kind === 'collateral' || leg.kind === 'liquidity') && leg.transport !== null ? [{ chainId: leg.sourceChainId, kind: leg.kind, transport: leg.transport }] : [],
  );
  return {
    account: state.account,
    chainId: state.chainId,
    chainKey: params.chainKey,
    assessment: { atRisk: state.open, equity: world.health.equity, maintenance: world.health.maintenance, initial: world.health.initial, required: required > 0n ? required : 0n },
    positions: world.positions,
    inFlight,
    sources: world.sources,
    avoid,
    terms: { ...params.terms, homeGasUsd: world.homeGasUsd },
  };
}

/**
 * How far the target level (sum of notional x m_eff (1 + target)) moved since the assessment,
 * from how far the engine's maintenance margin (sum of notional x m) moved: by the positions' own
 * ratio of the two, or with none left by the assessment's (its required amount plus its equity,
 * over its maintenance). Rounded up: a requirement is never understated.
 */
function targetLevelMoved(world: AccountWorld, latest: EpisodeAssessment, targetLevel: number): bigint {
  const change = world.health.maintenance - latest.maintenance;
  if (change === 0n) return 0n;
  const maintenanceLevel = world.positions.reduce((sum, position) => sum + Number(position.notional) * position.maintenanceFraction, 0);
  const perMaintenance = maintenanceLevel > 0 ? targetLevel / maintenanceLevel : latest.maintenance > 0n ? Number(latest.requiredAmount + latest.equity) / Number(latest.maintenance) : 0;
  const moved = Number(change) * Math.max(0, perMaintenance);
  return Number.isFinite(moved) ? BigInt(Math.ceil(moved)) : 0n;
}

/** The decision's legs as the ledger records them: sizes from notionals at the prices read, reservations as read. */
export function revisionRecord(params: {
  shortfallId: Hash;
  revision: number;
  state: EpisodeState;
  world: AccountWorld;
  decision: Extract<PolicyDecision, { kind: 'plan' | 'home' }>;
  deadline: Date;
}): RecordSettlementParameters {
  const { state, world, decision } = params;
  const legs: PlannedLeg[] = decision.legs.map((leg) => {
    const common = { destinationChainId: state.chainId, account: state.account as Address, amount: leg.amount, relief: leg.relief, deadline: params.deadline };
    if (leg.kind === 'collateral' || leg.kind === 'liquidity') {
      const reservation = world.observed.get(sourceKey(leg.kind, leg.sourceChainId));
      const base = { ...common, kind: leg.kind, sourceChainId: leg.sourceChainId, transport: leg.transport, ...(reservation ? { reservation } : {}) };
      return leg.kind === 'collateral' ? base : { ...base, marketId: leg.marketId as Hash, positionSize: sizeOf(world, leg.marketId, leg.absorbNotional) };
    }
    // A close into the pool or an auction of the lot: both on the account's chain, sized from the notional.
    return { ...common, kind: leg.kind, sourceChainId: state.chainId, transport: null, marketId: leg.marketId as Hash, positionSize: sizeOf(world, leg.marketId, leg.amount) };
  });
  const covered = decision.legs.reduce((sum, leg) => sum + leg.relief, 0n);
  const required = covered + decision.uncovered;
  return {
    shortfallId: params.shortfallId,
    revision: params.revision,
    requiredAmount: required,
    coveredAmount: covered,
    plannedCostUsd: (decision.kind === 'plan' ? decision.plan.totalCost : 0).toFixed(6),
    plan: decision.kind === 'plan' ? { decision: 'plan', need: decision.need.toString(), ...decision.plan } : { decision: 'home', need: decision.need.toString(), reason: decision.reason },
    legs,
  };
}

/** The signed size of `notional` (base units at the oracle) of the account's position in `market`, never more than it holds. */
function sizeOf(world: AccountWorld, market: string, notional: bigint): bigint {
  const position = world.markets.get(market);
  if (!position || position.price <= 0n) return 0n;
  const held = abs(position.size);
  // All of it when the plan takes all of it (the notional was rounded, the size must not leave dust).
  const heldNotional = (held * position.price) / VALUE_SCALE;
  const wanted = notional >= heldNotional ? held : (notional * VALUE_SCALE) / position.price;
  const size = wanted < held ? wanted : held;
  return position.size < 0n ? -size : size;
}
