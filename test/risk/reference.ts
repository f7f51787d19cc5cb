/**
 * An independent statement of the decision, straight from DESIGN.md section 5 with exact
 * fractions (no common denominator, no precomputed rates), to check the module against.
 */
import type { RiskConfig } from '../../relayer/risk/risk-config.js';
import type { AccountState, MarketParams, MarketState } from '../../relayer/risk/types.js';

export class Fraction {
  constructor(
    readonly n: bigint,
    readonly d: bigint = 1n,
  ) {
    if (d <= 0n) throw new RangeError('denominator must be positive');
  }

  add(other: Fraction): Fraction {
    return new Fraction(this.n * other.d + other.n * this.d, this.d * other.d);
  }

  sub(other: Fraction): Fraction {
    return this.add(new Fraction(-other.n, other.d));
  }

  mul(other: Fraction): Fraction {
    return new Fraction(this.n * other.n, this.d * other.d);
  }

  lessThan(other: Fraction): boolean {
    return this.n * other.d < other.n * this.d;
  }

  floor(): bigint {
    const q = this.n / this.d;
    return this.n % this.d !== 0n && this.n < 0n ? q - 1n : q;
  }

  ceil(): bigint {
    const q = this.n / this.d;
    return this.n % this.d !== 0n && this.n > 0n ? q + 1n : q;
  }
}

const wad = (value: bigint): Fraction => new Fraction(value, 10n ** 18n);
const abs = (value: bigint): bigint => (value < 0n ? -value : value);
/** size * price in USD base units: size / 1e18 * price / 10^d * 1e6. */
const value = (size: bigint, price: bigint, decimals: number): Fraction => new Fraction(size * price * 10n ** 6n, 10n ** 18n * 10n ** BigInt(decimals));

export interface ReferenceMarket {
  readonly params: MarketParams;
  readonly state: MarketState;
}

export interface ReferenceVerdict {
  readonly atRisk: boolean;
  readonly equity: Fraction | undefined;
  readonly maintenance: Fraction | undefined;
  readonly target: Fraction | undefined;
}

export function referenceVerdict(params: { account: AccountState; markets: ReadonlyMap<string, ReferenceMarket>; config: RiskConfig; now: number }): ReferenceVerdict {
  const { account, markets, config, now } = params;
  let equity = new Fraction(account.collateral);
  let maintenance = new Fraction(0n);
  let warn = new Fraction(0n);
  let target = new Fraction(0n);
  let forecast = new Fraction(0n);
  let doubtful = false;
  for (const position of account.positions) {
    if (position.size === 0n) continue;
    const market = markets.get(position.market);
    if (market === undefined) throw new Error(`no market ${position.market}`);
    const round = market.state.round;
    if (round === undefined) return { atRisk: true, equity: undefined, maintenance: undefined, target: undefined };
    const age = Math.max(0, now - round.updatedAt);
    if (age > market.params.heartbeatSeconds) doubtful = true;
    const horizon = config.actionSeconds + Math.min(age, market.params.heartbeatSeconds);
    const sigma = Math.sqrt(market.state.variance);
    const m = market.params.maintenanceFraction;
    const volatilityTerm = BigInt(Math.ceil(config.z * sigma * Math.sqrt(horizon) * 1e18));
    const mEff = volatilityTerm > m ? volatilityTerm : m;
    const decimals = market.params.priceDecimals;
    equity = equity.add(value(position.size, round.answer - position.entryPrice, decimals));
    const notional = value(abs(position.size), round.answer, decimals);
    maintenance = maintenance.add(notional.mul(wad(m)));
    warn = warn.add(notional.mul(wad(mEff)).mul(wad(10n ** 18n + config.warn)));
    target = target.add(notional.mul(wad(mEff)).mul(wad(10n ** 18n + config.target)));
    if (config.forecast !== undefined) {
      const kappa = config.forecast.multiplier * sigma * Math.sqrt(horizon);
      const mNumber = Number(m) / 1e18;
      const side = position.size > 0n ? 1 - mNumber : 1 + mNumber;
      forecast = forecast.add(notional.mul(wad(m + BigInt(Math.ceil(side * kappa * 1e18)))));
    }
  }
  const atRisk = doubtful || equity.lessThan(warn) || (config.forecast !== undefined && equity.lessThan(forecast));
  return { atRisk, equity, maintenance, target };
}
