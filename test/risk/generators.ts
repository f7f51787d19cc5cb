import type { SeededRandom } from '../../relayer/seeded-random.js';
import type { AccountState, MarketParams, MarketState, Position } from '../../relayer/risk/types.js';
import { T0 } from './fixtures.js';

/** 2 to 4 markets with mixed feed decimals, margins and heartbeats. */
export function randomMarkets(random: SeededRandom): MarketParams[] {
  const count = random.int(2, 4);
  return Array.from({ length: count }, (_, i) => ({
    id: `M${i}`,
    maintenanceFraction: BigInt(random.int(2, 15)) * 10n ** 16n,
    priceDecimals: random.pick([6, 8, 8, 18]),
    heartbeatSeconds: random.pick([300, 900, 3600]),
    varianceFloor: 1e-10,
    initialVariance: random.pick([1e-9, 1e-8, 1e-6]),
  }));
}

/** A price around 1..100000 with the market's decimals. */
export function randomPrice(random: SeededRandom, market: MarketParams): bigint {
  const usd = Math.exp(random.between(0, Math.log(100_000)));
  return BigInt(Math.round(usd * 1e4)) * 10n ** BigInt(market.priceDecimals) / 10_000n + 1n;
}

/** A state at T0: mostly fresh, some old, stale or missing, with varied volatility. */
export function randomMarketState(random: SeededRandom, market: MarketParams, price = randomPrice(random, market)): MarketState {
  if (random.chance(0.05)) return { round: undefined, variance: 1e-8 };
  const age = random.chance(0.1) ? market.heartbeatSeconds + random.int(1, 1000) : random.int(0, market.heartbeatSeconds);
  return {
    round: { market: market.id, roundId: 1n, answer: price, updatedAt: T0 - age },
    variance: random.pick([1e-10, 1e-8, 1e-6, 1e-5, 2 ** -16]),
  };
}

/**
 * An account near trouble more often than not: 1 to all markets (half of them cross-margin),
 * sizes from one wei to thousands of units, entries scattered around the price, leverage up to
 * 40x, sometimes no or negative collateral.
 */
export function randomAccount(params: { random: SeededRandom; id: string; markets: readonly MarketParams[]; prices: readonly bigint[] }): AccountState {
  const { random, markets, prices } = params;
  const count = random.chance(0.5) ? random.int(2, markets.length) : 1;
  const chosen = random.sample(
    markets.map((market, i) => ({ market, price: prices[i] ?? 1n })),
    count,
  );
  const positions: Position[] = [];
  let notional = 0;
  for (const { market, price } of chosen) {
    const priceUsd = Number(price) / 10 ** market.priceDecimals;
    const entry = BigInt(Math.max(0, Math.round(Number(price) * (1 + 0.05 * random.normal()))));
    const size = random.chance(0.03) ? BigInt(random.int(1, 1000)) : BigInt(Math.round(Math.exp(random.between(Math.log(10), Math.log(1e6))) / priceUsd * 1e6)) * 10n ** 12n + BigInt(random.int(0, 999));
    notional += (Number(size) / 1e18) * priceUsd;
    positions.push({ market: market.id, size: random.chance(0.5) ? size : -size, entryPrice: entry });
  }
  const collateralUsd = random.chance(0.03) ? -random.between(0, 100) : random.chance(0.03) ? 0 : notional / random.between(1, 40);
  return { account: params.id, collateral: BigInt(Math.round(collateralUsd * 1e6)), positions };
}
