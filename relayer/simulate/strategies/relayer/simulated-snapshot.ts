/**
 * The simulator's side of the decision core (DESIGN.md section 7b): the snapshot of one account
 * and its world, filled from a run's state as the node fills it from the chains and the ledger.
 * Nothing is decided here.
 * - assessment: the node's risk module through the RiskBridge (at risk, E, MM, IM, required);
 * - positions: each open position at its home oracle (and that price), with its fractions,
 *   m_eff (1 + target), penalty, the module's EWMA sigma of the market, the backstop's inventory
 *   there (signed notional at the oracle), and its home pool as it is now: USD and base reserves
 *   (their ratio is the pool's price, off the oracle after trades) and fee;
 * - in flight: every leg sent to the account and not landed, with its relief and seconds to go;
 * - sources: the account's consented surplus on each other chain (collateral), and each OTHER
 *   chain's vault capacity (liquidity; vault-capacity.ts), each with a route per transport the
 *   source chain has: gas on both chains plus the message fee, and the latency the world will
 *   really take (whole steps, at least one);
 * - each position's market auction (where the relayer uses them and none of it is open: the engine
 *   refuses a second, `AuctionActive`) and what the block's notional cap
 *   leaves in it; in flight, each open auction leg (relief, due now, as the node reports it);
 * - terms: the scenario's price of waiting, a 1 USD minimum action, no charge for the vault's
 *   margin, the home chain's gas, one step for a home action; the risk module's z, the relayer's
 *   impact budgets (home closes, pricing the backstop's unwinding), a step between two trades
 *   into a pool, the scenario's arbitrage half-life, and the relayer's belief of the auction
 *   takers' margin.
 * USD floats become base units with the core's rounding: amounts a source holds down,
 * requirements up.
 * m_eff (1 + target) goes to the core as the module has it, past 1 in a violent crash (the
 * requirement then exceeds the notional), as the node hands it over.
 */
import { unitsDown, unitsUp, type PolicyPosition, type PolicyRoute, type PolicySnapshot, type PolicySource } from '../../../policy/index.js';
import type { Assessment, ChainRates } from '../../risk-bridge.js';
import { TRANSPORTS } from '../../scenario/schema.js';
import type { RunState } from '../../strategy.js';
import { stepsFor, type Arrival } from './arrivals.js';
import { vaultCapacity } from './vault-capacity.js';

/** A need below this (USD) is not worth a transaction. */
export const MIN_ACTION_USD = 1;

export function simulatedSnapshot(params: {
  state: RunState;
  account: number;
  assessment: Assessment;
  /** The risk module's m_eff (1 + target) and sigma per market of the account's home chain, now. */
  rates: ChainRates;
  inFlight: readonly Arrival[];
  /** The relief of each auction leg in flight (engine-auction.ts): due whenever a taker fills it, as the node reports it. */
  auctions?: readonly bigint[];
  /** Whether a position (its index in the book) has an auction open on the engine: then none is offered for it. */
  auctionOpen?: (position: number) => boolean;
}): PolicySnapshot {
  const { state, account, assessment, rates } = params;
  const { book, world, scenario, vault } = state;
  const settings = scenario.strategies.relayer;
  const home = book.home[account] ?? 0;
  const positions: PolicyPosition[] = [];
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) {
    const size = book.positionSize[k] ?? 0;
    if (size === 0) continue;
    const market = book.positionMarket[k] ?? 0;
    const slot = world.slot(home, market);
    const pool = world.pool(slot);
    const oracle = world.oraclePrices[slot] ?? 0;
    const fundamental = world.fundamental(market);
    positions.push({
      marketId: scenario.markets[market]?.id ?? String(market),
      notional: unitsDown(Math.abs(size) * oracle),
      long: size > 0,
      maintenanceFraction: state.maintenance[market] ?? 0,
      initialFraction: state.initial[market] ?? 0,
      liquidationBufferFraction: state.liquidationBuffer[market] ?? 0,
      targetFraction: rates.target[market] ?? 0,
      penalty: state.penalty[market] ?? 0,
      oraclePrice: oracle,
      sigma: rates.sigma[market] ?? 0,
      backstopNotional: signedUnits((vault.inventory[slot] ?? 0) * oracle),
      ...(params.auctionOpen?.(k) ? {} : auctionOf(state, market)),
      ...blockLeft(state, slot),
      pool: { quoteReserve: unitsDown(pool.usdReserve(fundamental)), baseReserve: pool.baseReserve(fundamental), fee: pool.fee },
    });
  }
  const sources: PolicySource[] = [];
  if (book.optedIn[account] === 1) {
    const remoteEnd = book.remoteStart[account + 1] ?? 0;
    for (let r = book.remoteStart[account] ?? 0; r < remoteEnd; r++) {
      const chain = book.remoteChain[r] ?? 0;
      if (chain === home) continue;
      sources.push({ kind: 'collateral', chainId: chain, key: chainKey(state, chain), capacity: unitsDown(book.remoteCollateral[r] ?? 0), routes: routes(state, chain, home) });
    }
  }
  for (let chain = 0; chain < world.chainCount; chain++) {
    if (chain === home) continue;
    sources.push({ kind: 'liquidity', chainId: chain, key: chainKey(state, chain), capacity: unitsDown(vaultCapacity(state, chain)), routes: routes(state, chain, home) });
  }
  return {
    account: `#${account}`,
    chainId: home,
    chainKey: chainKey(state, home),
    assessment: {
      atRisk: assessment.atRisk,
      equity: assessment.equity,
      maintenance: assessment.maintenance,
      initial: assessment.initial,
      required: assessment.required,
    },
    positions,
    inFlight: [
      ...params.inFlight.map((leg) => ({ kind: leg.kind, relief: leg.relief, etaSeconds: Math.max(0, leg.dueStep - world.step) * world.stepSeconds })),
      ...(params.auctions ?? []).map((relief) => ({ kind: 'auction' as const, relief, etaSeconds: 0 })),
    ],
    sources,
    avoid: [],
    terms: {
      riskPerSecondPerUsd: settings.riskPerSecondPerUsd,
      minAction: unitsUp(MIN_ACTION_USD),
      liquidityRate: 0,
      homeGasUsd: gasUsd(state, home),
      homeLatencySeconds: world.stepSeconds,
      z: settings.z,
      localImpactBudget: settings.localImpactBudget,
      unwindImpactBudget: settings.unwindImpactBudget,
      blockSeconds: world.stepSeconds,
      arbitrageHalfLifeSeconds: scenario.impact.arbitrageHalfLifeSeconds,
      ...(settings.auctions ? { auctionTakerMargin: settings.auctionTakerMargin } : {}),
    },
  };
}

/** The market's auction as the engine has it, where the relayer uses auctions. */
function auctionOf(state: RunState, market: number): Pick<PolicyPosition, 'auction'> {
  const auction = state.scenario.markets[market]?.auction;
  if (!auction || !state.scenario.strategies.relayer.auctions) return {};
  return { auction: { buf: auction.buf, cut: auction.cut, cusp: auction.cusp, stepSeconds: auction.stepSeconds, tailSeconds: auction.tailSeconds } };
}

/** What the block's notional cap leaves in the slot now, where the market has one. */
function blockLeft(state: RunState, slot: number): Pick<PolicyPosition, 'blockNotionalLeft'> {
  const left = state.limits.left(slot, state.world.step);
  return left === Number.POSITIVE_INFINITY ? {} : { blockNotionalLeft: unitsDown(left) };
}

/** A signed USD figure in base units, rounded toward zero (as the engine's size x price / VALUE_SCALE). */
function signedUnits(value: number): bigint {
  return value < 0 ? -unitsDown(-value) : unitsDown(value);
}

/** Messages from `source` to `home`, one per transport the source chain has. */
function routes(state: RunState, source: number, home: number): PolicyRoute[] {
  const transports = state.scenario.chains[source]?.transports ?? {};
  const stepSeconds = state.world.stepSeconds;
  return TRANSPORTS.flatMap((transport) => {
    const route = transports[transport];
    if (route === undefined) return [];
    return [{ transport, fixedCostUsd: gasUsd(state, source) + gasUsd(state, home) + route.feeUsd, latencySeconds: stepsFor(route.latencySeconds, stepSeconds) * stepSeconds }];
  });
}

function chainKey(state: RunState, chain: number): string {
  return state.scenario.chains[chain]?.key ?? String(chain);
}

function gasUsd(state: RunState, chain: number): number {
  return state.scenario.chains[chain]?.gasUsd ?? 0;
}
