import type { CompiledAccount } from './compiled-account.js';
import { equityNumerator } from './equity.js';
import { requirementNumerator } from './maintenance.js';
import { snapshotAt, type MarketTable } from './market-table.js';
import { normalCdf } from './normal.js';
import { RATE_SCALE } from './units.js';

/**
 * S = sum |h_i| sigma_i sqrt(T_i) in USD base units, the forecast's worst-case dispersion of
 * H = E - MM over each market's horizon (forecast.ts); undefined when a price is missing.
 */
export function healthDispersion(account: CompiledAccount, table: MarketTable): number | undefined {
  let sum = 0;
  for (const leg of account.legs) {
    const market = snapshotAt(table, leg.market);
    if (market.price === undefined) return undefined;
    const m = Number(market.market.maintenanceFraction) / 1e18;
    const sensitivity = leg.weight * Number(market.price) * (leg.long ? 1 - m : 1 + m);
    sum += Math.abs(sensitivity) * market.sigma * Math.sqrt(market.horizonSeconds);
  }
  return sum;
}

/**
 * The forecast's probability that E falls below MM within the horizon, 2 * Phi(-H / S); 1 when
 * already below; undefined when a price is missing.
 */
export function breachProbability(account: CompiledAccount, table: MarketTable): number | undefined {
  const e = equityNumerator(account, table);
  const mm = requirementNumerator({ account, table, rateOf: (market) => market.maintenanceRate });
  const dispersion = healthDispersion(account, table);
  if (e === undefined || mm === undefined || dispersion === undefined) return undefined;
  const healthNumerator = e * RATE_SCALE - mm;
  if (healthNumerator <= 0n) return 1;
  if (dispersion === 0) return 0;
  // The statistics boundary: the exact health becomes a number (USD base units) here.
  const health = Number(healthNumerator) / (Number(table.catalog.denominator) * Number(RATE_SCALE));
  return Math.min(1, 2 * normalCdf(-health / dispersion));
}

