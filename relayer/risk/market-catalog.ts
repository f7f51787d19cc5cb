import { RelayerError } from '../errors.js';
import type { MarketId, MarketParams } from './types.js';
import { SIZE_DECIMALS, USD_DECIMALS, WAD } from './units.js';

/**
 * The markets a chain's engine lists, validated once, with the scale that puts every
 * position's value over one denominator: value (USD base units) = size * price * unit / Q.
 * With 8-decimal feeds Q = 1e20 and unit = 1, the MarginEngine's VALUE_SCALE.
 */
export interface MarketCatalog {
  readonly markets: readonly MarketParams[];
  readonly indexOf: ReadonlyMap<MarketId, number>;
  /** Q = 10^(SIZE_DECIMALS + maxPriceDecimals - USD_DECIMALS). */
  readonly denominator: bigint;
  /** Per market 10^(maxPriceDecimals - priceDecimals), so feeds of different decimals add up. */
  readonly priceUnits: readonly bigint[];
}

export function marketCatalog(markets: readonly MarketParams[]): MarketCatalog {
  const indexOf = new Map<MarketId, number>();
  markets.forEach((market, index) => {
    validateMarket(market);
    if (indexOf.has(market.id)) throw new RelayerError(`market ${market.id} is listed twice`);
    indexOf.set(market.id, index);
  });
  const maxDecimals = markets.reduce((max, market) => Math.max(max, market.priceDecimals), 0);
  return {
    markets,
    indexOf,
    denominator: 10n ** BigInt(SIZE_DECIMALS + maxDecimals - USD_DECIMALS),
    priceUnits: markets.map((market) => 10n ** BigInt(maxDecimals - market.priceDecimals)),
  };
}

function validateMarket(market: MarketParams): void {
  const name = `market ${market.id}`;
  if (!(market.maintenanceFraction > 0n && market.maintenanceFraction < WAD)) {
    throw new RelayerError(`${name}: maintenanceFraction must be in (0, 1e18), got ${market.maintenanceFraction}`);
  }
  if (!(Number.isInteger(market.priceDecimals) && market.priceDecimals >= 0 && market.priceDecimals <= 36)) {
    throw new RelayerError(`${name}: priceDecimals must be an integer from 0 to 36, got ${market.priceDecimals}`);
  }
  if (!(Number.isFinite(market.heartbeatSeconds) && market.heartbeatSeconds > 0)) {
    throw new RelayerError(`${name}: heartbeatSeconds must be positive, got ${market.heartbeatSeconds}`);
  }
  if (!(Number.isFinite(market.varianceFloor) && market.varianceFloor > 0)) {
    throw new RelayerError(`${name}: varianceFloor must be a positive per-second variance, got ${market.varianceFloor}`);
  }
  const initial = market.initialVariance;
  if (initial !== undefined && !(Number.isFinite(initial) && initial >= 0)) {
    throw new RelayerError(`${name}: initialVariance must be a non-negative per-second variance, got ${initial}`);
  }
}

export function marketIndex(catalog: MarketCatalog, market: MarketId): number {
  const index = catalog.indexOf.get(market);
  if (index === undefined) throw new RelayerError(`market ${market} is not configured`);
  return index;
}

export function marketAt(catalog: MarketCatalog, index: number): MarketParams {
  const market = catalog.markets[index];
  if (market === undefined) throw new RelayerError(`no market at index ${index}`);
  return market;
}
