/**
 * The planner's options for one snapshot, in USD of relief (DESIGN.md sections 1 and 6), each
 * with how to turn an allocation back into a leg:
 * - `collateral:<chain>:<transport>`: the account's own surplus there; relief is the amount.
 * - `liquidity:<chain>:<transport>`: the vault's reserve there funds the backstop's takeover of
 *   x of the account's largest position: it must hold x * IM of margin for it, and x relieves
 *   x (g - pen); the trader pays the penalty and the vault commits its margin, (pen +
 *   liquidityRate * im) / (g - pen) per USD of relief, and the protocol carries the position
 *   until it is unwound: the risk price z sigma sqrt(T) x (market-terms.ts `absorbRisk`), convex
 *   in x, which the planner takes as a quadratic with the risk's value and slope at the takeover
 *   that would cover the whole need alone. Only below initial margin, where the engine lets the
 *   backstop absorb, and only up to the size that restores it.
 * - `local:<chain>`: a partial liquidation of the largest position into its pool, only below
 *   maintenance (the engine refuses it above), up to the engine's cap (what restores the close
 *   level, maintenance plus the liquidation buffer) and as far as the pool's
 *   impact budget allows now (market-terms.ts `pacedClose`); penalty, fee, the pool's gap to the
 *   oracle and slippage as a quadratic in the relief.
 * - `local:<chain>:later`: between maintenance and initial margin, where a takeover is the only
 *   action the engine allows now, the local reduction it will allow if the account falls to
 *   maintenance, as the takeover's yardstick: priced like `local` at the pool as it is, after the
 *   wait for that fall (the seconds a z-sigma move of the position takes to erase the margin
 *   above maintenance, ((E - MM) / (z sigma N))^2), it has no leg: what the planner gives it is
 *   left to that reduction. So a takeover is planned only where it is cheaper in expectation.
 * - `auction:<chain>`: a Dutch auction of the largest position, only below maintenance (the
 *   engine's rule) and with no auction of the account open (the engine refuses a second): the
 *   expected fill at the first step whose price beats the pool's by the takers' margin
 *   (auction-terms.ts), after the home latency plus those steps; per USD of relief the discount to
 *   the oracle plus the penalty, no pool slippage; up to what restores the close level at that
 *   price (the engine cuts takes to it).
 * Every close, takeover and lot stays within the market's per-block notional cap left.
 * Each source takes its cheapest route (fixed cost plus the price of its wait): one surplus
 * over two transports is still one capacity.
 */
import type { PlanOption } from '../planner/types.js';
import { auctionCap, auctionFill, auctionReliefPerNotional } from './auction-terms.js';
import type { PolicyLeg } from './decision.js';
import {
  absorbCap,
  absorbRelief,
  absorbRisk,
  closeForRelief,
  closeLossCurve,
  closeLevelGain,
  closeLevelOf,
  closeRelief,
  liquidationCap,
  mostCloseRelief,
  marketTerms,
  pacedClose,
  unwindRate,
  type MarketTerms,
} from './market-terms.js';
import type { PolicyPosition, PolicyRoute, PolicySnapshot, PolicySource } from './snapshot.js';
import { minUnits, unitsDown, unitsUp, usdOf } from './usd.js';

/** Below this notional (USD) a position's remainder is closed with the rest. */
const DUST_USD = 10;

export interface PolicyOption {
  readonly option: PlanOption;
  /** The leg for `relief` USD of this option's allocation; none for what is left to a later local reduction. */
  readonly leg?: (relief: number) => PolicyLeg;
}

export function policyOptions(params: { snapshot: PolicySnapshot; riskPerSecond: number; needUsd: number }): PolicyOption[] {
  const { snapshot, needUsd } = params;
  const largest = largestPosition(snapshot.positions);
  const options: PolicyOption[] = [];
  // Every vault's takeover acts on the same position: together they absorb at most the engine's cap.
  const absorbable = largest ? { notional: Math.min(absorbCap(marketTerms(largest), usdOf(snapshot.assessment.initial - snapshot.assessment.equity)), blockCapUsd(largest)) } : { notional: 0 };
  const local = largest && localOption(snapshot, largest);
  if (local) options.push(local);
  const auction = largest && auctionOption(snapshot, largest);
  if (auction) options.push(auction);
  for (const source of snapshot.sources) {
    const route = cheapestRoute({ snapshot, source, riskPerSecond: params.riskPerSecond });
    if (!route || source.capacity <= 0n) continue;
    const option = source.kind === 'collateral' ? collateralOption(source, route) : largest && liquidityOption({ snapshot, source, route, position: largest, absorbable, needUsd });
    if (option) options.push(option);
  }
  const later = largest && options.some((option) => option.option.id.startsWith('liquidity:')) && laterLocalOption(snapshot, largest);
  if (later) options.push(later);
  return options;
}

/** The position acted on at home or by a takeover: the largest by notional. */
export function largestPosition(positions: readonly PolicyPosition[]): PolicyPosition | undefined {
  let best: PolicyPosition | undefined;
  for (const position of positions) if (position.notional > 0n && (!best || position.notional > best.notional)) best = position;
  return best;
}

function cheapestRoute(params: { snapshot: PolicySnapshot; source: PolicySource; riskPerSecond: number }): PolicyRoute | undefined {
  const { snapshot, source, riskPerSecond } = params;
  const avoided = (route: PolicyRoute) => snapshot.avoid.some((a) => a.chainId === source.chainId && a.kind === source.kind && a.transport === route.transport);
  let best: PolicyRoute | undefined;
  const price = (route: PolicyRoute) => route.fixedCostUsd + riskPerSecond * route.latencySeconds;
  for (const route of source.routes) if (!avoided(route) && (!best || price(route) < price(best))) best = route;
  return best;
}

function collateralOption(source: PolicySource, route: PolicyRoute): PolicyOption {
  const id = `collateral:${source.key}:${route.transport}`;
  return {
    option: { id, capacity: usdOf(source.capacity), fixedCost: route.fixedCostUsd, latency: route.latencySeconds, cost: { type: 'linear', rate: 0 } },
    leg: (relief) => {
      const amount = minUnits(unitsDown(relief), source.capacity);
      return { kind: 'collateral', optionId: id, sourceChainId: source.chainId, transport: route.transport, amount, relief: amount, latencySeconds: route.latencySeconds };
    },
  };
}

function liquidityOption(params: {
  snapshot: PolicySnapshot;
  source: PolicySource;
  route: PolicyRoute;
  position: PolicyPosition;
  absorbable: { notional: number };
  needUsd: number;
}): PolicyOption | undefined {
  const { snapshot, source, route, position, absorbable } = params;
  const terms = marketTerms(position);
  const perNotional = terms.target - terms.penalty;
  if (perNotional <= 0 || terms.initial <= 0) return undefined;
  const mostNotional = Math.min(usdOf(source.capacity) / terms.initial, absorbable.notional);
  const capacity = absorbRelief(terms, mostNotional);
  if (!(capacity > 0)) return undefined;
  const risk = absorbRiskCurve({ snapshot, terms, notional: Math.min(params.needUsd / perNotional, mostNotional) });
  if (!risk) return undefined;
  const id = `liquidity:${source.key}:${route.transport}`;
  return {
    option: {
      id,
      capacity,
      fixedCost: route.fixedCostUsd,
      latency: route.latencySeconds,
      // Per USD of relief: x = relief / (g - pen) of notional.
      cost: { type: 'quadratic', a: (terms.penalty + snapshot.terms.liquidityRate * terms.initial + risk.linear) / perNotional, b: risk.quadratic / perNotional ** 2 },
    },
    leg: (relief) => {
      // Legs are built one after another: what an earlier vault absorbs, a later one cannot.
      const notional = Math.min(relief / perNotional, mostNotional, absorbable.notional);
      absorbable.notional -= notional;
      const amount = minUnits(unitsUp(notional * terms.initial), source.capacity);
      const absorbed = Math.min(notional, usdOf(amount) / terms.initial);
      return {
        kind: 'liquidity',
        optionId: id,
        sourceChainId: source.chainId,
        transport: route.transport,
        amount,
        relief: unitsDown(Math.min(relief, absorbRelief(terms, absorbed))),
        latencySeconds: route.latencySeconds,
        marketId: position.marketId,
        absorbNotional: minUnits(unitsDown(absorbed), position.notional),
      };
    },
  };
}

/**
 * The risk price of absorbing x USD of the position (market-terms.ts `absorbRisk`, z sigma sqrt(T) x)
 * as linear x + quadratic x^2: the quadratic with the risk's value and slope at `notional`, the
 * takeover that would cover the whole need alone (or all the option can take), which no
 * allocation of the option exceeds; the linear term is kept >= 0 (then it matches the value only).
 * Undefined when the pool cannot unwind anything (the risk has no end).
 */
function absorbRiskCurve(params: { snapshot: PolicySnapshot; terms: MarketTerms; notional: number }): { linear: number; quadratic: number } | undefined {
  const { snapshot, terms, notional } = params;
  if (!(notional > 0)) return { linear: 0, quadratic: 0 };
  const at = absorbRisk(terms, notional, { z: snapshot.terms.z, rate: unwindRate(terms, snapshot.terms) });
  if (at.cost === 0) return { linear: 0, quadratic: 0 };
  if (!Number.isFinite(at.cost) || !Number.isFinite(at.slope)) return undefined;
  const linear = (2 * at.cost - at.slope * notional) / notional;
  return linear >= 0 ? { linear, quadratic: (at.slope * notional - at.cost) / notional ** 2 } : { linear: 0, quadratic: at.cost / notional ** 2 };
}

/** What the market's per-block notional cap still allows, USD (infinite without a cap). */
export function blockCapUsd(position: PolicyPosition): number {
  return position.blockNotionalLeft === undefined ? Number.POSITIVE_INFINITY : usdOf(position.blockNotionalLeft);
}

/** The most of the position (base units) the block's notional cap lets one action move. */
const notionalWithinBlock = (position: PolicyPosition): bigint => (position.blockNotionalLeft === undefined ? position.notional : minUnits(position.notional, position.blockNotionalLeft));

/** The engine's cap on a close of the position, as far as the pool's impact budget and the block's notional cap let it go now. */
export function pacedLocalCap(snapshot: PolicySnapshot, terms: MarketTerms, cap: number, position: PolicyPosition): number {
  return Math.min(pacedClose(terms, snapshot.terms.localImpactBudget, cap), blockCapUsd(position));
}

/** An auction of the position's lot as the planner sees it (see the top); undefined where the engine or the takers would not fill one. */
export function auctionPlan(snapshot: PolicySnapshot, position: PolicyPosition): { notional: number; reliefPerNotional: number; latencySeconds: number; costPerRelief: number } | undefined {
  const { equity, maintenance } = snapshot.assessment;
  const margin = snapshot.terms.auctionTakerMargin;
  if (!position.auction || margin === undefined || equity >= maintenance || snapshot.inFlight.some((leg) => leg.kind === 'auction')) return undefined;
  const terms = marketTerms(position);
  const fill = auctionFill({ auction: position.auction, terms, takerMargin: margin });
  const cap = fill && auctionCap(terms, fill, usdOf(closeLevelOf(maintenance, snapshot.positions) - equity));
  if (!fill || cap === undefined) return undefined;
  const reliefPerNotional = auctionReliefPerNotional(terms, fill);
  const notional = Math.min(cap, blockCapUsd(position));
  if (!(reliefPerNotional > 0) || !(notional > 0)) return undefined;
  return { notional, reliefPerNotional, latencySeconds: snapshot.terms.homeLatencySeconds + fill.waitSeconds, costPerRelief: Math.max(0, fill.lossPerNotional) / reliefPerNotional };
}

function auctionOption(snapshot: PolicySnapshot, position: PolicyPosition): PolicyOption | undefined {
  const auction = auctionPlan(snapshot, position);
  if (!auction) return undefined;
  const id = `auction:${snapshot.chainKey}`;
  return {
    option: { id, capacity: auction.notional * auction.reliefPerNotional, fixedCost: snapshot.terms.homeGasUsd, latency: auction.latencySeconds, cost: { type: 'linear', rate: auction.costPerRelief } },
    leg: (relief) => auctionLeg({ snapshot, position, notional: Math.min(auction.notional, relief / auction.reliefPerNotional), reliefPerNotional: auction.reliefPerNotional, latencySeconds: auction.latencySeconds }),
  };
}

export function auctionLeg(params: { snapshot: PolicySnapshot; position: PolicyPosition; notional: number; reliefPerNotional: number; latencySeconds: number }): PolicyLeg {
  const { snapshot, position, notional } = params;
  const amount = minUnits(unitsUp(notional), notionalWithinBlock(position));
  return {
    kind: 'auction',
    optionId: `auction:${snapshot.chainKey}`,
    sourceChainId: snapshot.chainId,
    amount,
    relief: unitsDown(Math.max(0, usdOf(amount) * params.reliefPerNotional)),
    latencySeconds: params.latencySeconds,
    marketId: position.marketId,
  };
}

function localOption(snapshot: PolicySnapshot, position: PolicyPosition): PolicyOption | undefined {
  const { equity, maintenance } = snapshot.assessment;
  if (equity >= maintenance) return undefined;
  const terms = marketTerms(position);
  const cap = pacedLocalCap(snapshot, terms, liquidationCap(terms, usdOf(closeLevelOf(maintenance, snapshot.positions) - equity)), position);
  const cost = localCost(terms);
  const capacity = closeRelief(terms, cap);
  if (!(capacity > 0) || !cost) return undefined;
  return {
    option: { id: `local:${snapshot.chainKey}`, capacity, fixedCost: snapshot.terms.homeGasUsd, latency: snapshot.terms.homeLatencySeconds, cost },
    leg: (relief) => localLeg({ snapshot, position, terms, relief, cap }),
  };
}

/** A close's cost per USD of relief as the planner's quadratic: x = relief / (target - linear) of notional. */
function localCost(terms: MarketTerms): PlanOption['cost'] | undefined {
  const loss = closeLossCurve(terms);
  const perNotional = terms.target - loss.linear;
  if (perNotional <= 0 || !(terms.poolBaseUsd > 0)) return undefined;
  return { type: 'quadratic', a: Math.max(0, loss.linear) / perNotional, b: loss.quadratic / perNotional ** 2 };
}

/** `local:<chain>:later` (see the top): only above maintenance and below initial margin; no leg. */
function laterLocalOption(snapshot: PolicySnapshot, position: PolicyPosition): PolicyOption | undefined {
  const { equity, maintenance, initial } = snapshot.assessment;
  if (equity < maintenance || equity >= initial) return undefined;
  const terms = marketTerms(position);
  const cost = localCost(terms);
  const capacity = mostCloseRelief(terms);
  const move = snapshot.terms.z * terms.sigma * terms.notional;
  const wait = (usdOf(equity - maintenance) / move) ** 2;
  if (!cost || !(capacity > 0) || !Number.isFinite(wait)) return undefined;
  return { option: { id: `local:${snapshot.chainKey}:later`, capacity, fixedCost: snapshot.terms.homeGasUsd, latency: snapshot.terms.homeLatencySeconds + wait, cost } };
}

/** The close whose relief is `relief` (all of the cap when no smaller close reaches it). */
export function localLeg(params: { snapshot: PolicySnapshot; position: PolicyPosition; terms: MarketTerms; relief: number; cap: number }): PolicyLeg {
  const { snapshot, position, terms, relief, cap } = params;
  const planned = closeForRelief(terms, relief, cap) ?? cap;
  // A remainder too small to be worth its own transaction goes with this close.
  const whole = terms.notional - planned < DUST_USD && cap >= terms.notional - DUST_USD && closeLevelGain(terms, terms.notional) >= closeLevelGain(terms, planned);
  const notional = whole ? terms.notional : planned;
  return {
    kind: 'local',
    optionId: `local:${snapshot.chainKey}`,
    sourceChainId: snapshot.chainId,
    amount: minUnits(unitsUp(notional), notionalWithinBlock(position)),
    relief: unitsDown(Math.max(0, Math.min(relief, closeRelief(terms, notional)))),
    latencySeconds: snapshot.terms.homeLatencySeconds,
    marketId: position.marketId,
  };
}
