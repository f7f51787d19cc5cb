/**
 * The scenario file of `relayer simulate` (DESIGN.md section 9), as a zod schema: the file's
 * documentation is this schema plus the README section. Money is USD as JSON numbers, times
 * are seconds, fractions are decimals (0.05 = 5%). Unknown keys are refused, so a misspelt
 * field is an error instead of a silently ignored default.
 */
import { z } from 'zod';

const positive = z.number().finite().positive('must be a number > 0');
const nonNegative = z.number().finite().min(0, 'must be a number >= 0');
const openFraction = z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)');
const unitInterval = z.number().min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]');
const seedSchema = z.number().int('must be an integer').min(0, 'must be an integer >= 0').max(2 ** 32 - 1, 'must fit in 32 bits');

/** A range [min, max]; min <= max is checked. */
const range = (value: z.ZodNumber) =>
  z.strictObject({ min: value, max: value }).refine((r) => r.min <= r.max, { message: 'min must not exceed max', path: ['min'] });

/** A log-normal draw: median * exp(spread * N(0, 1)), capped at max. */
const logNormal = z.strictObject({ median: positive, spread: nonNegative, max: positive.optional() });

const oracleSchema = z.strictObject({
  /** The feed publishes a new round when the market moved this much since the last one... */
  deviation: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)').default(0.005),
  /** ...or when this much time has passed. */
  heartbeatSeconds: positive.default(3600),
});

/**
 * A market's Dutch auction as MarginEngine.setAuctionConfig takes it (issue 14 item 3): a lot
 * starts at oracle x buf (a short at oracle / buf), its price falls by `cut` every `stepSeconds`,
 * and it must be reset once older than `tailSeconds` or cut below `cusp` of its start.
 */
const auctionSchema = z.strictObject({
  buf: z.number().finite().min(1, 'must be at least 1'),
  cut: openFraction,
  cusp: z.number().gt(0, 'must be in (0, 1]').max(1, 'must be in (0, 1]'),
  stepSeconds: z.number().int('must be a whole number of seconds').min(1, 'must be at least 1'),
  tailSeconds: positive,
});

const marketSchema = z.strictObject({
  id: z.string().min(1, 'must be a non-empty string'),
  initialPrice: positive,
  maintenance: openFraction,
  initial: openFraction,
  /** Charged on the notional closed or absorbed, from what equity is left (never into bad debt). */
  penalty: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)'),
  /**
   * How far above maintenance (a fraction of notional) a liquidation or an auction take may
   * restore the account (MarginEngine's liquidationBuffer; Drift's liquidation margin buffer):
   * 0 restores maintenance only; at most initial - maintenance.
   */
  liquidationBuffer: z.number().min(0, 'must be at least 0').default(0),
  /** The volatility prior of the relayer's EWMA before the first return is seen. */
  annualVolatility: positive.default(0.8),
  oracle: oracleSchema.prefault({}),
  /** The engine's auction of this market; absent: the market has none (liquidations go to the pool). */
  auction: auctionSchema.optional(),
  /**
   * The engine's per-block cap on notional liquidated, absorbed or taken in this market on each
   * chain (dYdX v4's per-block limit; a block is a step here), USD; absent: no cap.
   */
  maxNotionalPerBlockUsd: positive.optional(),
});

const poolSchema = z.strictObject({
  /** USD reserve of the constant-product pool at the market's initial price. */
  depthUsd: positive,
  fee: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)'),
});

const transportSchema = z.strictObject({ latencySeconds: nonNegative, feeUsd: nonNegative });

const chainSchema = z.strictObject({
  key: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case key such as alpha'),
  /** USD per transaction on this chain. */
  gasUsd: nonNegative,
  /** Protocol-owned liquidity held by this chain's vault. */
  vaultReserveUsd: nonNegative,
  /** Relative weight of this chain as the home of an account. */
  accountShare: nonNegative.default(1),
  /** One pool per market. */
  pools: z.record(z.string(), poolSchema),
  /** Messages sent from this chain: how long until they are usable at the destination, and the fee. */
  transports: z.strictObject({ layerzero: transportSchema.optional(), wormhole: transportSchema.optional() }).prefault({}),
});

const populationSchema = z.strictObject({
  accounts: z.number().int('must be an integer').min(0, 'must be >= 0').max(5_000_000, 'must be at most 5,000,000'),
  /** Defaults to a seed derived from the scenario's seed. */
  seed: seedSchema.optional(),
  marketsPerAccount: range(z.number().int('must be an integer').min(1, 'must be >= 1')).prefault({ min: 1, max: 1 }),
  /** Share of positions that are long. */
  longShare: unitInterval.default(0.5),
  /** Notional per position, USD. */
  notionalUsd: logNormal,
  /** Total notional over collateral at opening; max must respect every market's initial margin. */
  leverage: z.strictObject({ median: positive, spread: nonNegative, max: positive }),
  /** How many chains an account holds collateral on, its home chain included. */
  chainsSpanned: range(z.number().int('must be an integer').min(1, 'must be >= 1')).prefault({ min: 1, max: 1 }),
  /** Collateral kept on each other chain, as a fraction of the home collateral. */
  surplusElsewhere: range(nonNegative).prefault({ min: 0, max: 0 }),
  /** Share of accounts that consented to moving their surplus between chains. */
  optInShare: unitInterval.default(1),
});

const pointSchema = z.strictObject({
  atSeconds: nonNegative,
  /** Price as a multiple of the market's initialPrice. */
  level: positive,
});

const pricePathSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('points'),
    /** Interpolated log-linearly; flat after the last point. The first must be at 0. */
    points: z.array(pointSchema).min(1, 'must list at least one point'),
    /** Optional mean-reverting noise around the interpolated path (Ornstein-Uhlenbeck, seeded). */
    noise: z.strictObject({ volatilityPerDay: nonNegative, meanReversionSeconds: positive }).optional(),
  }),
  z.strictObject({
    type: z.literal('generator'),
    /** Drift and volatility of log returns per day (geometric Brownian motion). */
    driftPerDay: z.number().finite(),
    volatilityPerDay: nonNegative,
    /** Compound Poisson jumps of the log price: how many a day, their mean and deviation. */
    jumps: z.strictObject({ perDay: nonNegative, mean: z.number().finite(), stdev: nonNegative }).optional(),
  }),
]);

const closeFactorSchema = z.strictObject({
  /** Share of the position closed by one liquidation while health is above fullBelowHealth. */
  closeFactor: openFraction.default(0.5),
  /** Health E / MM at or below which the whole position goes (Aave v3.3: 0.95). */
  fullBelowHealth: openFraction.default(0.95),
  /** The partial rule needs notional and collateral each at least this (Aave v3.3: $2,000). */
  minPositionUsd: nonNegative.default(2000),
  /** A partial close may not leave less than this notional or equity (Aave v3.3: $1,000). */
  dustUsd: nonNegative.default(1000),
});

const relayerSchema = z.strictObject({
  z: positive.default(3),
  lambda: openFraction.default(0.94),
  /** Reported when E < MM_eff * (1 + warn); sourcing restores E >= MM_eff * (1 + target). */
  warn: nonNegative.default(0.25),
  target: nonNegative.default(0.5),
  /** T_act: expected seconds to complete the cheapest action. */
  actionSeconds: nonNegative.default(60),
  /** Annualized floor of the EWMA volatility. */
  volatilityFloor: positive.default(0.2),
  /** What a second of waiting costs the plan, per USD of required amount. */
  riskPerSecondPerUsd: nonNegative.default(0.0001),
  /**
   * The decision core's pool budget for home closes: a close keeps the pool within this fraction of
   * the oracle, and the next waits for arbitrage to restore it (issue 14; Hyperliquid's 20% of a
   * position, then 30 s, is the anchor: a fifth of a large position moves a deep pool about 2%).
   */
  localImpactBudget: openFraction.default(0.02),
  /**
   * Whether the backstop unwinds what it absorbed, as the node does with `unwind.enabled` (off by
   * default in both): every step it sells (or buys back) what the core's `decideUnwind` orders
   * within `unwindImpactBudget`. Off, it holds its inventory to the end and the vault carries the
   * market move (its PnL marks the inventory at what selling it into the pools would fetch).
   */
  backstopUnwinds: z.boolean().default(false),
  /**
   * The backstop's unwind budget per step: the pool stays within this fraction of the fundamental
   * price while it unwinds, and the core prices the risk of holding a takeover until it is unwound
   * at it (the engine's default is 1% a block).
   */
  unwindImpactBudget: openFraction.default(0.01),
  /** Whether the relayer starts the engine's auctions where a market has one (the node's `auction.enabled`). */
  auctions: z.boolean().default(true),
  /**
   * What the relayer believes auction takers need below the pool's price (the node's
   * `auction.takerMargin`); the world's takers act on `impact.auctionTakerMargin`.
   */
  auctionTakerMargin: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)').default(0.01),
  /** An auction leg still unfilled this long after it started is failed and the account replanned (the node's leg deadline). */
  legDeadlineSeconds: positive.default(3600),
});

export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1, 'must be a non-empty string'),
    description: z.string().default(''),
    seed: seedSchema,
    /** Whole seconds: the feeds stamp rounds in unix seconds. */
    stepSeconds: z.number().int('must be a whole number of seconds').min(1, 'must be at least 1'),
    durationSeconds: positive,
    markets: z.array(marketSchema).min(1, 'must list at least one market'),
    chains: z.array(chainSchema).min(1, 'must list at least one chain'),
    population: populationSchema,
    pricePaths: z.record(z.string(), pricePathSchema),
    impact: z.strictObject({
      arbitrageHalfLifeSeconds: positive,
      /**
       * Auction takers are arbitrageurs: they take a lot once its price is this far better than
       * the pool's, and hedge what they took in that pool at once, while the pool's marginal price
       * still leaves them this margin.
       */
      auctionTakerMargin: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)').default(0.01),
    }),
    strategies: z.strictObject({ closeFactor: closeFactorSchema.prefault({}), relayer: relayerSchema.prefault({}) }).prefault({}),
  })
  .superRefine((scenario, ctx) => {
    const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    const steps = scenario.durationSeconds / scenario.stepSeconds;
    if (steps > 1_000_000) issue(['durationSeconds'], `makes ${Math.ceil(steps)} steps of stepSeconds; at most 1,000,000`);
    const ids = new Set<string>();
    scenario.markets.forEach((market, i) => {
      if (ids.has(market.id)) issue(['markets', i, 'id'], `duplicate market '${market.id}'`);
      ids.add(market.id);
      if (market.initial <= market.maintenance) issue(['markets', i, 'initial'], `must be greater than maintenance (${market.maintenance})`);
      else if (market.maintenance + market.liquidationBuffer > market.initial + 1e-12) {
        issue(['markets', i, 'liquidationBuffer'], `must be at most initial - maintenance (${market.initial - market.maintenance})`);
      }
      if (scenario.population.leverage.max * market.initial > 1 + 1e-12) {
        issue(['population', 'leverage', 'max'], `must be at most 1 / initial of market ${market.id} (${1 / market.initial})`);
      }
    });
    const keys = new Set<string>();
    scenario.chains.forEach((chain, i) => {
      if (keys.has(chain.key)) issue(['chains', i, 'key'], `duplicate chain '${chain.key}'`);
      keys.add(chain.key);
      for (const id of ids) if (!(id in chain.pools)) issue(['chains', i, 'pools', id], 'is missing: every chain needs a pool for every market');
      for (const id of Object.keys(chain.pools)) if (!ids.has(id)) issue(['chains', i, 'pools', id], 'is not a listed market');
    });
    if (scenario.chains.every((chain) => chain.accountShare === 0)) issue(['chains', 0, 'accountShare'], 'at least one chain needs a positive accountShare');
    for (const id of ids) if (!(id in scenario.pricePaths)) issue(['pricePaths', id], 'is missing: every market needs a price path');
    for (const [id, path] of Object.entries(scenario.pricePaths)) {
      if (!ids.has(id)) issue(['pricePaths', id], 'is not a listed market');
      if (path.type !== 'points') continue;
      if (path.points[0]?.atSeconds !== 0) issue(['pricePaths', id, 'points', 0, 'atSeconds'], 'the first point must be at 0');
      path.points.forEach((point, i) => {
        const previous = path.points[i - 1];
        if (previous !== undefined && point.atSeconds <= previous.atSeconds) issue(['pricePaths', id, 'points', i, 'atSeconds'], 'must be after the previous point');
      });
    }
    const population = scenario.population;
    if (population.marketsPerAccount.max > scenario.markets.length) {
      issue(['population', 'marketsPerAccount', 'max'], `must be at most the number of markets (${scenario.markets.length})`);
    }
    if (population.chainsSpanned.max > scenario.chains.length) {
      issue(['population', 'chainsSpanned', 'max'], `must be at most the number of chains (${scenario.chains.length})`);
    }
    const relayer = scenario.strategies.relayer;
    if (relayer.target <= relayer.warn) issue(['strategies', 'relayer', 'target'], `must be greater than warn (${relayer.warn})`);
  });

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type MarketSpec = Scenario['markets'][number];
export type ChainSpec = Scenario['chains'][number];
export type PricePathSpec = Scenario['pricePaths'][string];
export type RelayerSettings = Scenario['strategies']['relayer'];
export type CloseFactorSettings = Scenario['strategies']['closeFactor'];
export type TransportName = 'layerzero' | 'wormhole';
export const TRANSPORTS: readonly TransportName[] = ['layerzero', 'wormhole'];
