/**
 * `close-factor`: Aave v3.3's rule (LiquidationLogic.sol) on a perp account, once per account
 * per step. Below maintenance (health E / MM < 1), a liquidation closes `closeFactor` (50%) of
 * every position if health is above `fullBelowHealth` (0.95) and both notional (Aave: debt)
 * and equity (Aave: collateral) are at least `minPositionUsd` ($2,000); otherwise everything.
 * A partial close that would leave less than `dustUsd` ($1,000) of notional, or of equity
 * after the penalty, closes everything instead (Aave's no-dust rule).
 */
import { notionalOf } from '../book.js';
import { closeFraction } from '../execution/close-positions.js';
import { chargeGas } from '../execution/gas.js';
import type { CloseFactorSettings } from '../scenario/schema.js';
import type { Candidate, RunState, Strategy } from '../strategy.js';
import { maintenanceRates } from './maintenance-rates.js';

export function closeFactorStrategy(state: RunState): Strategy {
  const rates = maintenanceRates(state);
  const settings = state.scenario.strategies.closeFactor;
  return {
    name: 'close-factor',
    beginStep: () => undefined,
    candidateRates: () => rates,
    act(run, candidates) {
      for (const candidate of candidates) {
        if (!(candidate.equity < candidate.maintenance)) continue;
        const fraction = closeFactorFraction({ state: run, candidate, settings });
        closeFraction({ state: run, account: candidate.account, fraction, reason: 'close-factor', permittedBelow: candidate.maintenance });
        chargeGas(run, run.book.home[candidate.account] ?? 0);
      }
    },
    endStep: () => undefined,
  };
}

/** The share of the positions one liquidation closes under the rule above. */
export function closeFactorFraction(params: { state: RunState; candidate: Candidate; settings: CloseFactorSettings }): number {
  const { state, candidate, settings } = params;
  const { book, world } = state;
  const notional = notionalOf({ book, account: candidate.account, prices: world.oraclePrices, marketCount: world.marketCount });
  const health = candidate.equity / candidate.maintenance;
  const partialAllowed = health > settings.fullBelowHealth && notional >= settings.minPositionUsd && candidate.equity >= settings.minPositionUsd;
  if (!partialAllowed) return 1;
  const share = settings.closeFactor;
  const penalty = share * penaltyOf(state, candidate.account);
  const leavesDust = (1 - share) * notional < settings.dustUsd || candidate.equity - penalty < settings.dustUsd;
  return leavesDust ? 1 : share;
}

/** The penalty of closing every position at the oracle, before the cap by equity. */
function penaltyOf(state: RunState, account: number): number {
  const { book, world } = state;
  const chain = book.home[account] ?? 0;
  let penalty = 0;
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) {
    const market = book.positionMarket[k] ?? 0;
    penalty += Math.abs(book.positionSize[k] ?? 0) * (world.oraclePrices[world.slot(chain, market)] ?? 0) * (state.penalty[market] ?? 0);
  }
  return penalty;
}
