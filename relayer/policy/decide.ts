/**
 * The decision core (DESIGN.md section 7b): the next action for one account, from a snapshot
 * alone. The node and the simulator both act on what this returns and on nothing else.
 *
 * 1. Not at risk: nothing.
 * 2. Below maintenance, with what lands before the next block not enough to restore it: a
 *    home action now, a partial liquidation of the largest position that restores maintenance
 *    (the engine lets any keeper liquidate below it, bluntly, if we do not) and goes on up to the
 *    close level the engine allows (maintenance plus the market's liquidation buffer, so that the
 *    next tick down does not put it under again) as far as the planner gives the close of the
 *    need against every other source, sized at the
 *    pool's real price, in a chunk that keeps the pool within its impact budget; when the
 *    pool has no room yet, no home close until arbitrage gives it back. Where the market has an
 *    auction (and none of the account is open), the home action is instead an auction of the lot
 *    that restores as much at its expected fill price when that costs less, by one rule: each
 *    way's cost is what the account pays against the oracle (the close's penalty, fee, gap and
 *    slippage; the auction's discount and penalty) plus the price of waiting on the deficit
 *    (riskPerSecondPerUsd x deficit x seconds until maintenance is restored). A close restores it in
 *    deficit / gain(chunk) chunks, each paid, one per recovery of the pool (max(block, arbitrage
 *    half-life)) after the home latency, never when a chunk gains nothing; an auction at the home
 *    latency plus the steps to the fill. A thin pool makes the close dear or impossible and the
 *    auction wins; a deep pool or a dear wait keeps the close.
 * 3. Otherwise, if required minus in flight is worth a transaction: the planner's cheapest
 *    cover of it over the sources and (below maintenance) a paced partial liquidation, as a plan
 *    revision, a takeover priced with the risk of holding it until it is unwound; never more
 *    than that need, never more of a source than it holds unreserved.
 */
import { plan } from '../planner/plan.js';
import type { PolicyDecision, PolicyLeg } from './decision.js';
import { closeForRelief, closeLevelGain, closeLevelOf, closeLoss, homeClose, marketTerms, mostGainingClose, type MarketTerms } from './market-terms.js';
import { auctionLeg, auctionPlan, largestPosition, localLeg, pacedLocalCap, policyOptions } from './options.js';
import type { PolicyPosition } from './snapshot.js';
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
  const bankrupt = equity < 0n;
  const levelDeficit = closeLevelOf(maintenance, snapshot.positions) - equity - landing + HEALTH_ROUNDING_MARGIN;
  const restoring = homeClose(terms, usdOf(deficit), bankrupt, terms.maintenance);
  // Past what restores maintenance, on toward the close level as far as the planner gives the
  // close of the need (where the account's own surplus elsewhere is cheaper, that covers the rest)
  // and while it still adds to E - MM (slippage in a thin pool can cost more than a close frees).
  const toLevel = homeClose(terms, usdOf(levelDeficit), bankrupt);
  const further = Math.min(toLevel, closeForRelief(terms, plannedLocalRelief(snapshot, need), toLevel) ?? toLevel, mostGainingClose(terms, terms.maintenance));
  // No further where no close helps maintenance at all, nor for a bankrupt account (closed whole).
  const close = bankrupt || !(restoring > 0) ? restoring : Math.max(restoring, further);
  if (!(close > 0)) return undefined;
  const cap = pacedLocalCap(snapshot, terms, close, position);
  const below = `below maintenance by ${usdOf(maintenance - equity).toFixed(2)} USD and ${usdOf(landing).toFixed(2)} USD lands within ${snapshot.terms.homeLatencySeconds} s`;
  const auction = auctionAtHome({ snapshot, position, terms, deficit: usdOf(levelDeficit), cap });
  if (auction) return { kind: 'home', reason: `${below}; ${auction.reason}`, need, legs: [{ ...auction.leg, relief: capped(auction.leg.relief, need) }], uncovered: 0n };
  if (!(cap > 0)) return 'pool';
  const leg = localLeg({ snapshot, position, terms, relief: Number.POSITIVE_INFINITY, cap });
  if (leg.amount <= 0n) return undefined;
  const paced = cap < close ? `; the pool's impact budget lets ${cap.toFixed(2)} of the ${close.toFixed(2)} USD close go now` : '';
  return { kind: 'home', reason: `${below}${paced}`, need, legs: [{ ...leg, relief: capped(leg.relief, need) }], uncovered: 0n };
}

/** The relief (USD) the planner allocates to the local close when every option competes for the need. */
function plannedLocalRelief(snapshot: PolicySnapshot, need: bigint): number {
  if (need <= 0n) return 0;
  const needUsd = usdOf(need);
  const riskPerSecond = snapshot.terms.riskPerSecondPerUsd * needUsd;
  const id = `local:${snapshot.chainKey}`;
  const options = policyOptions({ snapshot, riskPerSecond, needUsd }).map(({ option }) => option);
  return plan({ required: needUsd, riskPerSecond, options }).allocations.reduce((sum, allocation) => sum + (allocation.id === id ? allocation.amount : 0), 0);
}

const capped = (relief: bigint, need: bigint): bigint => (relief < need ? relief : need > 0n ? need : 0n);

/** The auction the home action starts instead of a close, when by the rule at the top it costs less. */
function auctionAtHome(params: { snapshot: PolicySnapshot; position: PolicyPosition; terms: MarketTerms; deficit: number; cap: number }): { leg: PolicyLeg; reason: string } | undefined {
  const { snapshot, position, terms, deficit, cap } = params;
  const auction = auctionPlan(snapshot, position);
  if (!auction) return undefined;
  const { riskPerSecondPerUsd: risk, homeLatencySeconds, blockSeconds, arbitrageHalfLifeSeconds } = snapshot.terms;
  // Paced closes of this chunk, one per recovery of the pool, until the deficit is restored (never, when a chunk gains nothing).
  const gain = cap > 0 ? closeLevelGain(terms, cap) : 0;
  const rounds = gain > 0 ? Math.ceil(deficit / gain - 1e-9) : Number.POSITIVE_INFINITY;
  const closeWait = homeLatencySeconds + (rounds - 1) * Math.max(blockSeconds, arbitrageHalfLifeSeconds);
  const closeCost = rounds === Number.POSITIVE_INFINITY ? rounds : closeLoss(terms, cap) * rounds + risk * deficit * closeWait;
  const lossPerNotional = auction.costPerRelief * auction.reliefPerNotional;
  const auctionCost = lossPerNotional * auction.notional + risk * deficit * auction.latencySeconds;
  if (!(auctionCost < closeCost)) return undefined;
  const leg = auctionLeg({ snapshot, position, notional: auction.notional, reliefPerNotional: auction.reliefPerNotional, latencySeconds: auction.latencySeconds });
  if (leg.amount <= 0n) return undefined;
  return { leg, reason: `an auction (expected fill in ${auction.latencySeconds.toFixed(0)} s, ${auctionCost.toFixed(2)} USD) costs less than a close (${closeCost.toFixed(2)} USD)` };
}
