import { smallestFraction } from '../../execution/fraction-search.js';
import type { AccountTerms } from './account-terms.js';

/** Restore a hair above MM, so float rounding never leaves the account a cent short. */
const OVERSHOOT = 1e-9;

/**
 * The smallest share of every position whose action (closing or absorbing, whose cost to the
 * account is `loss(share)`) brings equity back to maintenance: (1 - phi) MM <= E - loss(phi).
 * Undefined when no share does.
 */
export function restoringFraction(terms: AccountTerms, loss: (fraction: number) => number): number | undefined {
  const goal = (terms.maintenance - terms.equity) * (1 + OVERSHOOT);
  return smallestFraction((fraction) => fraction * terms.maintenance - loss(fraction), goal);
}
