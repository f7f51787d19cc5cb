import { RelayerError } from '../errors.js';
import type { MarketCatalog } from './market-catalog.js';
import { marketSnapshot, type MarketSnapshot } from './market-snapshot.js';
import type { RiskConfig } from './risk-config.js';
import type { MarketState } from './types.js';

/** Every market of a catalog at one instant: the immutable input of every account evaluation. */
export interface MarketTable {
  readonly catalog: MarketCatalog;
  readonly config: RiskConfig;
  readonly now: number;
  readonly markets: readonly MarketSnapshot[];
}

/** `states` is indexed like the catalog's markets. */
export function marketTable(params: {
  catalog: MarketCatalog;
  config: RiskConfig;
  states: readonly MarketState[];
  now: number;
}): MarketTable {
  const { catalog, config, states, now } = params;
  if (!Number.isFinite(now)) throw new RelayerError(`now must be a finite unix time in seconds, got ${now}`);
  if (states.length !== catalog.markets.length) {
    throw new RelayerError(`expected a state for each of ${catalog.markets.length} markets, got ${states.length}`);
  }
  const markets = catalog.markets.map((market, index) => {
    const state = states[index];
    if (state === undefined) throw new RelayerError(`no state for market ${market.id}`);
    return marketSnapshot({ market, state, config, now });
  });
  return { catalog, config, now, markets };
}

export function snapshotAt(table: MarketTable, index: number): MarketSnapshot {
  const snapshot = table.markets[index];
  if (snapshot === undefined) throw new RelayerError(`no market at index ${index}`);
  return snapshot;
}
