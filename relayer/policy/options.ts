/**
 * The planner's options for one snapshot, in USD of relief (DESIGN.md sections 1 and 6), each
 * with how to turn an allocation back into a leg:
 * - `collateral:<chain>:<transport>`: the account's own surplus there; relief is the amount.
 * - `liquidity:<chain>:<transport>`: the vault's reserve there funds the backstop's takeover of
 *   x of the account's largest position: it must hold x * IM of margin for it, and x relieves
 *   x (g - pen); the trader pays the penalty and the vault commits its margin, so the cost per
 *   USD of relief is (pen + liquidityRate * im) / (g - pen). Only below initial margin, where
 *   the engine lets the backstop absorb, and only up to the size that restores it.
 * - `local:<chain>`: a partial liquidation of the largest position into its pool, only below
 *   maintenance (the engine refuses it above) and up to the engine's cap; penalty, fee and
 *   slippage modelled as quadratic in the relief (closing x into depth Y slips about x^2 / Y).
 * Each source takes its cheapest route (fixed cost plus the price of its wait): one surplus
 * over two transports is still one capacity.
 */
import type { PlanOption } from '../planner/types.js';
import type { PolicyLeg } from './decision.js';
import { absorbCap, absorbRelief, closeForRelief, closeMaintenanceGain, closeRelief, liquidationCap, marketTerms, type MarketTerms } from './market-terms.js';
import type { PolicyPosition, PolicyRoute, PolicySnapshot, PolicySource } from './snapshot.js';
import { minUnits, unitsDown, unitsUp, usdOf } from './usd.js';

/** Below this notional (USD) a position's remainder is closed with the rest. */
const DUST_USD = 10;

export interface PolicyOption {
  readonly option: PlanOption;
  /** The leg for `relief` USD of this option's allocation. */
  readonly leg: (relief: number) => PolicyLeg;
}

export function policyOptions(params: { snapshot: PolicySnapshot; riskPerSecond: number }): PolicyOption[] {
  const { snapshot } = params;
  const largest = largestPosition(snapshot.positions);
  const options: PolicyOption[] = [];
  // Every vault's takeover acts on the same position: together they absorb at most the engine's cap.
  const absorbable = largest ? { notional: absorbCap(marketTerms(largest), usdOf(snapshot.assessment.initial - snapshot.assessment.equity)) } : { notional: 0 };
  const local = largest && localOption(snapshot, largest);
  if (local) options.push(local);
  for (const source of snapshot.sources) {
    const route = cheapestRoute({ snapshot, source, riskPerSecond: params.riskPerSecond });
    if (!route || source.capacity <= 0n) continue;
    const option = source.kind === 'collateral' ? collateralOption(source, route) : largest && liquidityOption({ snapshot, source, route, position: largest, absorbable });
    if (option) options.push(option);
  }
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

function liquidityOption(params: { snapshot: PolicySnapshot; source: PolicySource; route: PolicyRoute; position: PolicyPosition; absorbable: { notional: number } }): PolicyOption | undefined {
  const { snapshot, source, route, position, absorbable } = params;
  const terms = marketTerms(position);
  const perNotional = terms.target - terms.penalty;
  if (perNotional <= 0 || terms.initial <= 0) return undefined;
  const mostNotional = Math.min(usdOf(source.capacity) / terms.initial, absorbable.notional);
  const capacity = absorbRelief(terms, mostNotional);
  if (!(capacity > 0)) return undefined;
  const id = `liquidity:${source.key}:${route.transport}`;
  return {
    option: {
      id,
      capacity,
      fixedCost: route.fixedCostUsd,
      latency: route.latencySeconds,
      cost: { type: 'linear', rate: (terms.penalty + snapshot.terms.liquidityRate * terms.initial) / perNotional },
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

function localOption(snapshot: PolicySnapshot, position: PolicyPosition): PolicyOption | undefined {
  const { equity, maintenance } = snapshot.assessment;
  if (equity >= maintenance) return undefined;
  const terms = marketTerms(position);
  const cap = liquidationCap(terms, usdOf(maintenance - equity));
  const capacity = closeRelief(terms, cap);
  const perNotional = terms.target - terms.penalty - terms.fee;
  if (!(capacity > 0) || perNotional <= 0 || terms.poolUsd <= 0) return undefined;
  const id = `local:${snapshot.chainKey}`;
  return {
    option: {
      id,
      capacity,
      fixedCost: snapshot.terms.homeGasUsd,
      latency: snapshot.terms.homeLatencySeconds,
      cost: { type: 'quadratic', a: (terms.penalty + terms.fee) / perNotional, b: 1 / (terms.poolUsd * perNotional * perNotional) },
    },
    leg: (relief) => localLeg({ snapshot, position, terms, relief, cap }),
  };
}

/** The close whose relief is `relief` (all of the cap when no smaller close reaches it). */
export function localLeg(params: { snapshot: PolicySnapshot; position: PolicyPosition; terms: MarketTerms; relief: number; cap: number }): PolicyLeg {
  const { snapshot, position, terms, relief, cap } = params;
  const planned = closeForRelief(terms, relief, cap) ?? cap;
  // A remainder too small to be worth its own transaction goes with this close.
  const whole = terms.notional - planned < DUST_USD && cap >= terms.notional - DUST_USD && closeMaintenanceGain(terms, terms.notional) >= closeMaintenanceGain(terms, planned);
  const notional = whole ? terms.notional : planned;
  return {
    kind: 'local',
    optionId: `local:${snapshot.chainKey}`,
    sourceChainId: snapshot.chainId,
    amount: minUnits(unitsUp(notional), position.notional),
    relief: unitsDown(Math.max(0, Math.min(relief, closeRelief(terms, notional)))),
    latencySeconds: snapshot.terms.homeLatencySeconds,
    marketId: position.marketId,
  };
}
