/**
 * The decision core (DESIGN.md section 7b): the next action for one account, from a snapshot
 * alone. The node and the simulator both act on what this returns and on nothing else.
 *
 * 1. Not at risk: nothing.
 * 2. Below maintenance, with what lands before the next block not enough to restore it: a
 *    home action now, the smallest partial liquidation of the largest position that restores
 *    maintenance (the engine lets any keeper liquidate below it, bluntly, if we do not), sized at
 *    the pool's real price, in a chunk that keeps the pool within its impact budget; when the
 *    pool has no room yet, no home close until arbitrage gives it back.
 * 3. Otherwise, if required minus in flight is worth a transaction: the planner's cheapest
 *    cover of it over the sources and (below maintenance) a paced partial liquidation, as a plan
 *    revision, a takeover priced with the risk of holding it until it is unwound; never more
 *    than that need, never more of a source than it holds unreserved.
 */
import { plan } from '../planner/plan.js';
import type { PolicyDecision, PolicyLeg } from './decision.js';
import { homeClose, marketTerms } from './market-terms.js';
import { largestPosition, localLeg, pacedLocalCap, policyOptions } from './options.js';
import type { PolicySnapshot } from './snapshot.js';
import { unitsDown, usdOf } from './usd.js';
import { validateSnapshot } from './validate-snapshot.js';

/** MarginEngine.HEALTH_ROUNDING_MARGIN: base units added to a deficit when sizing a close. */
const HEALTH_ROUNDING_MARGIN = 4n;

export function decide(snapshot: PolicySnapshot): PolicyDecision {
  validateSnapshot(snapshot);
  const { assessment } = snapshot;
  const inFlight = snapshot.inFlight.reduce((sum, leg) => sum + leg.relief, 0n);
  const need = assessment.required - inFlight;
  if (!assessment.atRisk) return { kind: 'none', reason: 'not at risk', need, uncovered: 0n };
  if (snapshot.inFlight.some((leg) => leg.kind === 'local')) return { kind: 'none', reason: 'waiting for a home action', need, uncovered: 0n };
  if (assessment.required === 0n && inFlight === 0n) return { kind: 'none', reason: 'at its target', need, uncovered: 0n };

  const home = homeAction(snapshot, need);
  if (home !== undefined && home !== 'pool') return home;
  const waiting = home === 'pool';

  if (need <= 0n) return { kind: 'none', reason: 'in flight covers it', need, uncovered: 0n };
  if (need < snapshot.terms.minAction) return { kind: 'none', reason: 'below the smallest action', need, uncovered: 0n };
  const needUsd = usdOf(need);
  const riskPerSecond = snapshot.terms.riskPerSecondPerUsd * needUsd;
  const options = policyOptions({ snapshot, riskPerSecond, needUsd });
  const result = plan({ required: needUsd, riskPerSecond, options: options.map(({ option }) => option) });
  const byId = new Map(options.map((option) => [option.option.id, option]));
  const legs = capRelief(
    result.allocations.flatMap((allocation) => {
      const leg = byId.get(allocation.id)?.leg?.(allocation.amount);
      return leg && leg.amount > 0n && (leg.kind !== 'liquidity' || leg.absorbNotional > 0n) ? [leg] : [];
    }),
    need,
  );
  // What the planner left to a local reduction once the engine allows it: not a gap, a choice.
  const later = unitsDown(result.allocations.reduce((sum, allocation) => sum + (byId.get(allocation.id)?.leg ? 0 : allocation.amount), 0));
  const covered = legs.reduce((sum, leg) => sum + leg.relief, 0n);
  // What the legs do not relieve: capacity short, or a takeover cut to what another vault's left.
  // (A base unit per leg short is the rounding down of amounts, not a gap.)
  const short = need - covered - later;
  const uncovered = short > BigInt(legs.length + (later > 0n ? 1 : 0)) ? short : 0n;
  if (legs.length === 0) {
    // A home close the pool's budget holds back is coming: the need is not without a source.
    if (waiting) return { kind: 'none', reason: 'waiting for the pool to recover', need, uncovered: 0n };
    return later > 0n ? { kind: 'none', reason: 'left to a local reduction', need, uncovered } : { kind: 'none', reason: 'no source can cover it', need, uncovered: need };
  }
  return { kind: 'plan', need, legs, uncovered, plan: result };
}

/** Relief adds up to at most the need, whatever the float rounding did. */
function capRelief(legs: PolicyLeg[], need: bigint): PolicyLeg[] {
  let left = need;
  return legs.map((leg) => {
    const relief = leg.relief < left ? leg.relief : left > 0n ? left : 0n;
    left -= relief;
    return relief === leg.relief ? leg : { ...leg, relief };
  });
}

/** The home action, if one is due now; 'pool' when one is due but the pool has no room for it yet. */
function homeAction(snapshot: PolicySnapshot, need: bigint): PolicyDecision | 'pool' | undefined {
  const { equity, maintenance } = snapshot.assessment;
  const landing = snapshot.inFlight.filter((leg) => leg.etaSeconds <= snapshot.terms.homeLatencySeconds).reduce((sum, leg) => sum + leg.relief, 0n);
  // Sized like the engine's cap, a few base units over the deficit, so rounding never leaves it one unit short.
  const deficit = maintenance - equity - landing + HEALTH_ROUNDING_MARGIN;
  if (equity >= maintenance || deficit <= HEALTH_ROUNDING_MARGIN) return undefined;
  const position = largestPosition(snapshot.positions);
  if (!position) return undefined;
  const terms = marketTerms(position);
  const close = homeClose(terms, usdOf(deficit), equity < 0n);
  if (!(close > 0)) return undefined;
  const cap = pacedLocalCap(snapshot, terms, close);
  if (!(cap > 0)) return 'pool';
  const leg = localLeg({ snapshot, position, terms, relief: Number.POSITIVE_INFINITY, cap });
  if (leg.amount <= 0n) return undefined;
  const relief = leg.relief < need ? leg.relief : need > 0n ? need : 0n;
  const paced = cap < close ? `; the pool's impact budget lets ${cap.toFixed(2)} of the ${close.toFixed(2)} USD close go now` : '';
  return {
    kind: 'home',
    reason: `below maintenance by ${usdOf(maintenance - equity).toFixed(2)} USD and ${usdOf(landing).toFixed(2)} USD lands within ${snapshot.terms.homeLatencySeconds} s${paced}`,
    need,
    legs: [{ ...leg, relief }],
    uncovered: 0n,
  };
}
