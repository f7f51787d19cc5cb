/**
 * What happens to an account still below maintenance once the relayer has planned: value in
 * flight arrives too late for the keepers, who may liquidate it on chain now.
 * 1. The relayer acts first (it watches every step): the home vault's backstop takes over the
 *    smallest share that restores E >= MM, if its free margin allows: no market impact.
 * 2. Otherwise the margin engine's own liquidation (DESIGN.md section 4), open to any keeper: a
 *    partial close into the pool of only the share that restores E >= MM.
 * 3. When no share restores health (slippage and penalty outrun the margin released: the
 *    account is nearly or already bankrupt), the backstop takes everything over if it can,
 *    else the whole position is closed into the pool.
 */
import { hasPositions } from '../../book.js';
import { absorbFraction, absorbLoss } from '../../execution/absorb-positions.js';
import { closeFraction, closeLoss } from '../../execution/close-positions.js';
import { chargeGas } from '../../execution/gas.js';
import type { RunState } from '../../strategy.js';
import { accountTerms, type AccountTerms } from './account-terms.js';
import { withoutDust } from './dust.js';
import { targetRatesOf, type RelayerContext } from './relayer-context.js';
import { restoringFraction } from './restoring-fraction.js';

export function protectMaintenance(context: RelayerContext, account: number): void {
  const { state } = context;
  if (!hasPositions(state.book, account)) return;
  const terms = accountTerms({ state, account, targetRates: targetRatesOf(context, account) });
  if (!(terms.equity < terms.maintenance)) return;
  const home = state.book.home[account] ?? 0;
  const free = state.vault.free(home, state.world.oraclePrices);
  const absorbed = restoringFraction(terms, (fraction) => absorbLoss({ state, account, fraction, equity: terms.equity }));
  if (absorbed !== undefined && canHold({ free, terms, fraction: withoutDust(absorbed, terms.notional) })) {
    act({ state, account, kind: 'absorb', reason: 'protect', fraction: withoutDust(absorbed, terms.notional), terms });
    return;
  }
  const closed = restoringFraction(terms, (fraction) => closeLoss({ state, account, fraction, equity: terms.equity }));
  if (closed !== undefined) act({ state, account, kind: 'close', reason: 'engine', fraction: withoutDust(closed, terms.notional), terms });
  else act({ state, account, kind: canHold({ free, terms, fraction: 1 }) ? 'absorb' : 'close', reason: 'engine', fraction: 1, terms });
}

function canHold(params: { free: number; terms: AccountTerms; fraction: number }): boolean {
  return params.free >= params.fraction * params.terms.initialMargin;
}

function act(params: { state: RunState; account: number; kind: 'absorb' | 'close'; reason: 'protect' | 'engine'; fraction: number; terms: AccountTerms }): void {
  const { state, account, kind, reason, fraction, terms } = params;
  const action = { state, account, fraction, reason, permittedBelow: terms.maintenance };
  if (kind === 'absorb') absorbFraction(action);
  else closeFraction(action);
  chargeGas(state, state.book.home[account] ?? 0);
}
