import { fractionToWadUp } from './units.js';

/**
 * m_eff = max(m, z * sigma * sqrt(T_act + T_oracle)): the margin must cover a z-sigma move over
 * the time it takes to act plus the time the oracle may already be behind. The volatility
 * term is rounded up into WAD.
 */
export function effectiveMarginFraction(params: {
  maintenanceFraction: bigint;
  sigma: number;
  horizonSeconds: number;
  z: number;
}): bigint {
  const volatilityTerm = fractionToWadUp(params.z * params.sigma * Math.sqrt(params.horizonSeconds), 'z * sigma * sqrt(T)');
  return volatilityTerm > params.maintenanceFraction ? volatilityTerm : params.maintenanceFraction;
}
