/**
 * `relayer`: this node's logic in the simulator. Each step:
 * 1. the feeds' new rounds go into the risk module (EWMA volatility, m_eff), and legs due now
 *    land (deliver-arrivals.ts);
 * 2. accounts near their volatility-adjusted threshold are assessed exactly by the risk
 *    module; an at-risk account's required amount, less what is already in flight to it, is
 *    planned by the node's planner over collateral from other chains, vault liquidity for a
 *    backstop takeover, and (below maintenance) a partial local liquidation, and carried out
 *    (execute-plan.ts);
 * 3. whatever is still below maintenance is restored at once: by the home backstop if it can,
 *    else by the engine's own partial liquidation (protect-maintenance.ts);
 * 4. the backstop holds what it absorbed, or unwinds it within an impact budget (backstop-unwind.ts).
 */
import { hasPositions } from '../../book.js';
import { plan } from '../../../planner/plan.js';
import { RiskBridge } from '../../risk-bridge.js';
import type { RunState, Strategy } from '../../strategy.js';
import { accountTerms } from './account-terms.js';
import { ArrivalQueue } from './arrivals.js';
import { unwindBackstop } from './backstop-unwind.js';
import { deliverArrivals } from './deliver-arrivals.js';
import { executePlan } from './execute-plan.js';
import { protectMaintenance } from './protect-maintenance.js';
import { targetRatesOf, type RelayerContext } from './relayer-context.js';
import { sourcingOptions } from './sourcing-options.js';

/** A required amount below this (USD) is not worth a transaction: wait for it to grow. */
const MIN_NEED_USD = 1;

export function relayerStrategy(state: RunState): Strategy {
  const settings = state.scenario.strategies.relayer;
  const context: RelayerContext = { state, bridge: new RiskBridge(state.scenario), arrivals: new ArrivalQueue(), pending: new Float64Array(state.book.count) };
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
      deliverArrivals(context);
    },
    candidateRates: () => warnRates,
    act(run, candidates) {
      for (const { account } of candidates) {
        if (!hasPositions(run.book, account)) continue;
        sourceFor(context, account, settings.riskPerSecondPerUsd);
        protectMaintenance(context, account);
      }
    },
    endStep(run) {
      unwindBackstop(run, settings.backstopUnwindImpact);
    },
  };
}

/** Assess exactly; if at risk, plan and carry out what the required amount still needs. */
function sourceFor(context: RelayerContext, account: number, riskPerSecondPerUsd: number): void {
  const { state } = context;
  const assessment = context.bridge.assess({ book: state.book, account, time: state.world.time });
  if (!assessment.atRisk) return;
  const inFlight = context.pending[account] ?? 0;
  const need = assessment.requiredUsd - inFlight;
  if (need < MIN_NEED_USD) return;
  const terms = accountTerms({ state, account, targetRates: targetRatesOf(context, account) });
  const options = sourcingOptions({ state, account, terms });
  const result = plan({ required: need, riskPerSecond: riskPerSecondPerUsd * need, options: options.map(({ option }) => option) });
  state.tally.plan({ step: state.world.step, account, required: assessment.requiredUsd, inFlight, allocations: result.allocations, uncovered: result.uncovered });
  executePlan({ context, account, options, plan: result });
}
