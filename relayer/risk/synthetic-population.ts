import type { SeededRandom } from '../seeded-random.js';
import type { AccountState, MarketParams, Position } from './types.js';
import { WAD } from './units.js';
import { varianceFromAnnualVolatility } from './volatility.js';

/** A market with a starting price (feed units), for benches and property tests. */
export interface SyntheticMarket {
  readonly params: MarketParams;
  readonly price: bigint;
}

const PRICE_DECIMALS = 8;

/** Three markets shaped like ETH, BTC and SOL perps on 8-decimal Chainlink feeds. */
export function syntheticMarkets(): SyntheticMarket[] {
  const market = (id: string, maintenancePercent: bigint, annualVolatility: number, price: number): SyntheticMarket => ({
    params: {
      id,
      maintenanceFraction: (maintenancePercent * WAD) / 100n,
      priceDecimals: PRICE_DECIMALS,
      heartbeatSeconds: 3600,
      varianceFloor: varianceFromAnnualVolatility(0.2),
      initialVariance: varianceFromAnnualVolatility(annualVolatility),
    },
    price: BigInt(price) * 10n ** BigInt(PRICE_DECIMALS),
  });
  return [market('ETH-USD', 5n, 0.6, 3000), market('BTC-USD', 4n, 0.5, 60000), market('SOL-USD', 8n, 0.9, 150)];
}

export interface PopulationShape {
  /** Share of accounts with positions in two or three markets. */
  readonly crossShare: number;
  /** Leverage (notional / collateral at entry) is log-normal: median, log-deviation, cap. */
  readonly leverageMedian: number;
  readonly leverageSpread: number;
  readonly maxLeverage: number;
  /** Entry prices scatter around the current price with this relative deviation. */
  readonly entrySpread: number;
}

/** Mostly 2-8x, a tail to 15x, entries within a few percent: a few percent start at risk. */
export const DEFAULT_SHAPE: PopulationShape = { crossShare: 0.3, leverageMedian: 4, leverageSpread: 0.5, maxLeverage: 15, entrySpread: 0.03 };

/**
 * One synthetic account: 1 to 3 positions (long 55%), notional log-normal around $5,000,
 * entries near the current price, collateral from a log-normal leverage. Deterministic in `random`.
 */
export function syntheticAccount(params: {
  id: string;
  markets: readonly SyntheticMarket[];
  random: SeededRandom;
  shape?: PopulationShape;
}): AccountState {
  const { random, markets } = params;
  const shape = params.shape ?? DEFAULT_SHAPE;
  const count = random.chance(shape.crossShare) ? random.int(2, Math.min(3, markets.length)) : 1;
  const positions: Position[] = [];
  let notionalUsd = 0;
  for (const market of random.sample(markets, count)) {
    const price = Number(market.price) / 10 ** market.params.priceDecimals;
    const entry = price * (1 + shape.entrySpread * random.normal());
    const notional = 5000 * Math.exp(random.normal());
    notionalUsd += notional;
    // Sizes in micro-units of the asset, then scaled to 1e18: exact and deterministic.
    const micro = BigInt(Math.max(1, Math.round((notional / entry) * 1e6)));
    const size = micro * 10n ** 12n * (random.chance(0.55) ? 1n : -1n);
    const entryPrice = BigInt(Math.round(entry * 10 ** market.params.priceDecimals));
    positions.push({ market: market.params.id, size, entryPrice });
  }
  const leverage = Math.min(shape.maxLeverage, shape.leverageMedian * Math.exp(shape.leverageSpread * random.normal()));
  return { account: params.id, collateral: BigInt(Math.round((notionalUsd / leverage) * 1e6)), positions };
}

/** `count` accounts named 0x000…0, 0x000…1, … */
export function* syntheticAccounts(params: {
  count: number;
  markets: readonly SyntheticMarket[];
  random: SeededRandom;
  shape?: PopulationShape;
}): Generator<AccountState> {
  for (let i = 0; i < params.count; i++) {
    yield syntheticAccount({ id: accountAddress(i), markets: params.markets, random: params.random, shape: params.shape });
  }
}

export const accountAddress = (index: number): string => `0x${index.toString(16).padStart(40, '0')}`;
