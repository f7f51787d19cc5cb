/**
 * `relayer`: this node's decision core (relayer/policy, DESIGN.md section 7b) driven over the
 * simulated world. The strategy decides nothing itself; each step:
 * 1. the feeds' new rounds go into the risk module (EWMA volatility, m_eff), and the legs due
 *    now land (deliver-arrivals.ts);
 * 2. for each account the scan found near its volatility-adjusted threshold, worst first: the
 *    snapshot of it and its world (simulated-snapshot.ts), the core's decision, and that
 *    decision carried out under the contracts' rules (apply-decision.ts); after a home action
 *    the core is asked once more in the same step, as the node's closed loop re-assesses once
 *    the home action is mined;
 *    Before the node, the world's takers act on the engine's open auctions (engine-auction.ts).
 * 3. the backstop holds what it absorbed, or unwinds it within an impact budget (backstop-unwind.ts).
 * The decide function is injected (default: the core's `decide`), so a test can run the same
 * world on another decision.
 */
import { decide as coreDecide, usdOf, type PolicyDecision } from '../../../policy/index.js';
import { hasPositions } from '../../book.js';
import { EngineAuctions } from '../../execution/engine-auction.js';
import { RiskBridge } from '../../risk-bridge.js';
import type { RunState, Strategy } from '../../strategy.js';
import { applyDecision } from './apply-decision.js';
import { ArrivalQueue } from './arrivals.js';
import { unwindBackstop } from './backstop-unwind.js';
import { deliverArrivals } from './deliver-arrivals.js';
import { engineLevels, type DecideFn, type RelayerContext } from './relayer-context.js';
import { simulatedSnapshot } from './simulated-snapshot.js';

export interface RelayerStrategyOptions {
  readonly decide?: DecideFn;
}

export function relayerStrategy(state: RunState, options: RelayerStrategyOptions = {}): Strategy {
  const settings = state.scenario.strategies.relayer;
  const decide = options.decide ?? coreDecide;
  const bridge = new RiskBridge(state.scenario);
  const context: RelayerContext = {
    state,
    bridge,
    arrivals: new ArrivalQueue(),
    auctions: new EngineAuctions(state, (account) => engineLevels({ state, bridge }, account), state.scenario.impact.auctionTakerMargin),
    marketIndex: new Map(state.scenario.markets.map((market, index) => [market.id, index])),
  };
  const { world } = state;
  const warnRates = new Float64Array(world.chainCount * world.marketCount);
  return {
    name: 'relayer',
    beginStep() {
      for (const slot of world.rounds) context.bridge.observeRound({ slot, price: world.oraclePrices[slot] ?? 0, time: world.time });
      for (let chain = 0; chain < world.chainCount; chain++) {
        context.bridge.rates(chain, world.time).warn.forEach((rate, market) => {
          warnRates[world.slot(chain, market)] = rate;
        });
      }
      // The takers act on this step's prices before the node does.
      context.auctions.step();
      deliverArrivals(context);
    },
    candidateRates: () => warnRates,
    act(run, candidates) {
      for (const { account } of candidates) {
        if (!hasPositions(run.book, account)) continue;
        const first = decideAndApply({ context, decide, account });
        if (first === 'home' && hasPositions(run.book, account)) decideAndApply({ context, decide, account });
      }
    },
    endStep(run) {
      if (settings.backstopUnwinds) unwindBackstop(run, settings.unwindImpactBudget);
    },
  };
}

/** One turn of the loop for one account: snapshot, decide, apply. Returns the decision's kind. */
function decideAndApply(params: { context: RelayerContext; decide: DecideFn; account: number }): PolicyDecision['kind'] {
  const { context, decide, account } = params;
  const { state, bridge } = context;
  const { book, world } = state;
  const assessment = bridge.assess({ book, account, time: world.time });
  const inFlight = context.arrivals.inFlight(account);
  const auctions = context.auctions.legsInFlight(account, state.scenario.strategies.relayer.legDeadlineSeconds);
  const snapshot = simulatedSnapshot({ state, account, assessment, rates: bridge.rates(book.home[account] ?? 0, world.time), inFlight, auctions, auctionOpen: (position) => context.auctions.isOpen(position) });
  const decision = decide(snapshot);
  record({ context, account, decision, required: assessment.required, inFlight: snapshot.inFlight.reduce((sum, leg) => sum + leg.relief, 0n) });
  if (decision.kind !== 'none') applyDecision({ context, account, decision });
  return decision.kind;
}

function record(params: { context: RelayerContext; account: number; decision: PolicyDecision; required: bigint; inFlight: bigint }): void {
  const { context, account, decision } = params;
  if (decision.kind === 'none' && decision.uncovered <= 0n) return;
  context.state.tally.plan({
    step: context.state.world.step,
    account,
    kind: decision.kind,
    required: usdOf(params.required),
    inFlight: usdOf(params.inFlight),
    allocations: decision.kind === 'none' ? [] : decision.legs.map((leg) => ({ id: leg.optionId, amount: usdOf(leg.relief) })),
    uncovered: usdOf(decision.uncovered),
  });
}
