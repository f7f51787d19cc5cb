/**
 * THE BOUNDARY between the simulator and the node's risk module (relayer/risk).
 *
 * The simulator keeps money as `number` USD, sizes as asset units and prices as USD per unit;
 * the risk module is the node's fixed point: collateral in 6-decimal base units, sizes at 1e18,
 * prices as 8-decimal feed answers, fractions as WAD (risk/units.ts). Crossing here:
 * - into the module: each quantity is rounded to its unit (`toUnits`) once, when an account is
 *   assessed or a feed round is published;
 * - out of it: the required amount (base units, rounded up by the module) becomes USD by
 *   dividing by 1e6, and the per-market rates (m_eff * (1 + warn), m_eff * (1 + target)) become
 *   fractions with `rateFraction` (one rounding, as the node converts them); they pre-filter and
 *   size actions; and each market's EWMA sigma (per square root of a second), which prices what
 *   the backstop would hold.
 * The assessment the `relayer` strategy hands the decision core (at risk or not, E, MM, IM and
 * the required amount, all in base units) is the module's.
 * Each chain has its own feeds, so its own market states and table; time is unix seconds from
 * a fixed epoch so that oracle ages are the module's own arithmetic.
 */
import { RelayerError } from '../errors.js';
import { requirementNumerator } from '../risk/maintenance.js';
import { ceilDiv } from '../risk/units.js';
import {
  accountVerdict,
  compileAccount,
  equity as equityOf,
  initialMarketState,
  maintenanceRequirement,
  marketCatalog,
  marketTable,
  RATE_SCALE,
  rateFraction,
  requiredAmount,
  riskConfig,
  SIZE_DECIMALS,
  USD_DECIMALS,
  updateVariance,
  varianceFromAnnualVolatility,
  WAD,
  type AccountState,
  type MarketCatalog,
  type MarketParams,
  type MarketState,
  type MarketTable,
  type Position,
  type RiskConfig,
} from '../risk/index.js';
import type { AccountBook } from './book.js';
import type { Scenario } from './scenario/schema.js';

/** Feed answers carry 8 decimals, as Chainlink's USD feeds do. */
export const PRICE_DECIMALS = 8;
/** The unix time of step 0: any fixed epoch works, the module only takes differences. */
export const EPOCH = 1_700_000_000;

const USD_SCALE = 10 ** USD_DECIMALS;
const PRICE_SCALE = 10 ** PRICE_DECIMALS;
const SIZE_SCALE = 10 ** SIZE_DECIMALS;

/** A USD amount, asset size or price rounded to the module's integer unit. */
const toUnits = (value: number, scale: number): bigint => BigInt(Math.round(value * scale));

export interface Assessment {
  readonly atRisk: boolean;
  /** What restores E >= MM_eff * (1 + target), USD (the module's base units over 1e6). */
  readonly requiredUsd: number;
  /** The same, in the module's base units (rounded up by it). */
  readonly required: bigint;
  /** E at the feeds, base units, rounded down (as the engine rounds it). */
  readonly equity: bigint;
  /** MM at the static fractions, base units, rounded up. */
  readonly maintenance: bigint;
  /** IM, base units, rounded up. */
  readonly initial: bigint;
}

/** Per market of one chain, as fractions of notional. */
export interface ChainRates {
  /** m_eff * (1 + warn): below it an account is at risk. */
  readonly warn: Float64Array;
  /** m_eff * (1 + target): what the required amount restores. */
  readonly target: Float64Array;
  /** The module's sigma: EWMA volatility of log returns per square root of a second (not a fraction of notional). */
  readonly sigma: Float64Array;
}

export class RiskBridge {
  readonly catalog: MarketCatalog;
  readonly config: RiskConfig;
  private readonly marketCount: number;
  private readonly lambda: number;
  /** Market states by slot (chain * marketCount + market). */
  private readonly states: MarketState[];
  private readonly tables: (MarketTable | undefined)[];
  private readonly rateCache: (ChainRates | undefined)[];
  /** Initial fraction per market id at RATE_SCALE, as the requirement sums take rates. */
  private readonly initialRates: ReadonlyMap<string, bigint>;

  constructor(scenario: Scenario) {
    const settings = scenario.strategies.relayer;
    this.config = riskConfig({ z: settings.z, lambda: settings.lambda, actionSeconds: settings.actionSeconds, warn: settings.warn, target: settings.target });
    this.lambda = settings.lambda;
    const markets: MarketParams[] = scenario.markets.map((market) => ({
      id: market.id,
      maintenanceFraction: toUnits(market.maintenance, Number(WAD)),
      priceDecimals: PRICE_DECIMALS,
      heartbeatSeconds: market.oracle.heartbeatSeconds,
      varianceFloor: varianceFromAnnualVolatility(settings.volatilityFloor),
      initialVariance: varianceFromAnnualVolatility(market.annualVolatility),
    }));
    this.catalog = marketCatalog(markets);
    this.initialRates = new Map(scenario.markets.map((market) => [market.id, toUnits(market.initial, Number(WAD)) * WAD]));
    this.marketCount = markets.length;
    this.states = scenario.chains.flatMap(() =>
      markets.map((market, m) => ({
        ...initialMarketState(market),
        round: { market: market.id, roundId: 1n, answer: priceUnits(scenario.markets[m]?.initialPrice ?? 1), updatedAt: EPOCH },
      })),
    );
    this.tables = scenario.chains.map(() => undefined);
    this.rateCache = scenario.chains.map(() => undefined);
  }

  /** A feed round on a slot: the EWMA variance learns the return (risk/volatility.ts). */
  observeRound(params: { slot: number; price: number; time: number }): void {
    const state = this.states[params.slot];
    const market = this.catalog.markets[params.slot % this.marketCount];
    if (state === undefined || market === undefined || state.round === undefined) throw new RelayerError(`no market state at slot ${params.slot}`);
    const next = { market: market.id, roundId: state.round.roundId + 1n, answer: priceUnits(params.price), updatedAt: EPOCH + params.time };
    const variance = updateVariance({ variance: state.variance, previous: state.round, next, lambda: this.lambda, floor: market.varianceFloor });
    this.states[params.slot] = { round: next, variance };
    const chain = Math.floor(params.slot / this.marketCount);
    this.tables[chain] = undefined;
    this.rateCache[chain] = undefined;
  }

  /** Every market of `chain` at `time`: the module's table (cached until the clock or a round moves it). */
  table(chain: number, time: number): MarketTable {
    const cached = this.tables[chain];
    if (cached !== undefined && cached.now === EPOCH + time) return cached;
    const states = this.states.slice(chain * this.marketCount, (chain + 1) * this.marketCount);
    const table = marketTable({ catalog: this.catalog, config: this.config, states, now: EPOCH + time });
    this.tables[chain] = table;
    this.rateCache[chain] = undefined;
    return table;
  }

  rates(chain: number, time: number): ChainRates {
    const table = this.table(chain, time);
    const cached = this.rateCache[chain];
    if (cached !== undefined) return cached;
    const rates = {
      warn: Float64Array.from(table.markets, (market) => rateFraction(market.warnRate)),
      target: Float64Array.from(table.markets, (market) => rateFraction(market.targetRate)),
      sigma: Float64Array.from(table.markets, (market) => market.sigma),
    };
    this.rateCache[chain] = rates;
    return rates;
  }

  /**
   * The module's verdict (E < MM_eff * (1 + warn), or a stale feed) and required amount for an
   * account of the book, at its home chain's feeds: `accountVerdict` and `requiredAmount`, the
   * two functions `evaluateAccount` builds a shortfall report from, without the rest of it.
   */
  assess(params: { book: AccountBook; account: number; time: number }): Assessment {
    const { book, account, time } = params;
    const table = this.table(book.home[account] ?? 0, time);
    const compiled = compileAccount(this.accountState(book, account), this.catalog);
    const required = requiredAmount(compiled, table);
    const equity = equityOf(compiled, table);
    const maintenance = maintenanceRequirement(compiled, table);
    const initialNumerator = requirementNumerator({ account: compiled, table, rateOf: (market) => this.initialRates.get(market.market.id) ?? 0n });
    if (required === undefined || equity === undefined || maintenance === undefined || initialNumerator === undefined) {
      throw new RelayerError(`account #${account} could not be valued: a feed has no round`);
    }
    const initial = ceilDiv(initialNumerator, table.catalog.denominator * RATE_SCALE);
    return { atRisk: accountVerdict(compiled, table).atRisk, requiredUsd: Number(required) / USD_SCALE, required, equity, maintenance, initial };
  }

  private accountState(book: AccountBook, account: number): AccountState {
    const positions: Position[] = [];
    const end = book.positionStart[account + 1] ?? 0;
    for (let k = book.positionStart[account] ?? 0; k < end; k++) {
      const size = book.positionSize[k] ?? 0;
      if (size === 0) continue;
      const market = this.catalog.markets[book.positionMarket[k] ?? 0];
      if (market === undefined) throw new RelayerError(`account #${account} holds a position in an unknown market`);
      positions.push({ market: market.id, size: toUnits(size, SIZE_SCALE), entryPrice: priceUnits(book.positionEntry[k] ?? 0) });
    }
    return { account: `#${account}`, collateral: toUnits(book.collateral[account] ?? 0, USD_SCALE), positions };
  }
}

/** A price as a feed answer; at least one unit, as a feed never answers zero. */
function priceUnits(price: number): bigint {
  const units = toUnits(price, PRICE_SCALE);
  return units > 0n ? units : 1n;
}
