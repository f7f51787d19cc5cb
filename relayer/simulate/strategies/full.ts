/**
 * `full`: the blunt liquidation the node exists to avoid. Static threshold (E < MM at the
 * oracle), and then the whole position goes into the home chain's pool at once.
 */
import { closeFraction } from '../execution/close-positions.js';
import { chargeGas } from '../execution/gas.js';
import type { RunState, Strategy } from '../strategy.js';
import { maintenanceRates } from './maintenance-rates.js';

export function fullStrategy(state: RunState): Strategy {
  const rates = maintenanceRates(state);
  return {
    name: 'full',
    beginStep: () => undefined,
    candidateRates: () => rates,
    act(run, candidates) {
      for (const candidate of candidates) {
        if (!(candidate.equity < candidate.maintenance)) continue;
        closeFraction({ state: run, account: candidate.account, fraction: 1, reason: 'maintenance', permittedBelow: candidate.maintenance });
        chargeGas(run, run.book.home[candidate.account] ?? 0);
      }
    },
    endStep: () => undefined,
  };
}
