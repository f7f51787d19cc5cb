/**
 * The proactive forecast: the probability that the account becomes liquidatable on chain
 * (E < MM, static m) within its action horizon T = T_act + T_oracle. m_eff already prices a
 * z-sigma move into the reported threshold, so forecasting a crossing of that threshold would
 * count the volatility twice; what the node must pre-empt is the on-chain liquidation.
 *
 * Model: H = E - MM moves with each price by dH/dlnP_i = h_i = p_i P_i (1 - sign(p_i) m_i);
 * log returns are normal with the EWMA sigma_i over T_i; their correlation is unknown, so
 * the dispersion is the worst case S = sum |h_i| sigma_i sqrt(T_i) (perfectly adverse); and by
 * the reflection principle the chance of touching H = 0 within T is 2 * Phi(-H / S).
 * Then P > level  <=>  H < k S with k = -Phi^-1(level / 2)  <=>
 * E < sum |p_i| P_i f_i with f_i = m_i + (1 -/+ m_i) k sigma_i sqrt(T_i) (long / short):
 * a requirement of the same linear form as MM_eff, which is how the decision is made (exactly)
 * and how the index bounds it. The probability itself (breach-probability.ts) is reported
 * alongside; being floating point it can sit a hair off the level when the decision is a tie.
 */

import { normalQuantile } from './normal.js';
import { fractionToWadUp } from './units.js';

/** k such that 2 * (1 - Phi(k)) = level. */
export function forecastMultiplier(level: number): number {
  return -normalQuantile(level / 2);
}

/** f for a long and a short position, WAD, rounded up; kappa = k * sigma * sqrt(T). */
export function forecastFractions(params: { maintenanceFraction: bigint; kappa: number }): { long: bigint; short: bigint } {
  const m = Number(params.maintenanceFraction) / 1e18;
  return {
    long: params.maintenanceFraction + fractionToWadUp((1 - m) * params.kappa, 'forecast term (1 - m) k sigma sqrt(T)'),
    short: params.maintenanceFraction + fractionToWadUp((1 + m) * params.kappa, 'forecast term (1 + m) k sigma sqrt(T)'),
  };
}
