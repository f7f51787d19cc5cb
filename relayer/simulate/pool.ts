/**
 * One market's constant-product pool on one chain (DESIGN.md section 9): x * y = k with x the
 * base reserve and y the USD reserve. The pool is kept as k and its log deviation d from the
 * fundamental price F, so its price is F * e^d and its reserves follow: x = sqrt(k / P),
 * y = sqrt(k P). Trades move d; arbitrage decays d with a half-life; the fundamental itself
 * moves the price without trading (arbitrageurs bring the pool along). Fees leave the pool
 * (paid to LPs), so k is constant. USD amounts are plain numbers: this is a statistical model.
 */

/** A buy may take at most this share of the base reserve in one trade (the cost diverges at all of it). */
export const MAX_BUY_SHARE = 0.5;

export class Pool {
  /** x * y. */
  readonly k: number;
  readonly fee: number;
  /** ln(pool price / fundamental price): the price impact still in the pool. */
  logDeviation = 0;

  constructor(params: { depthUsd: number; fee: number; initialPrice: number }) {
    this.k = (params.depthUsd * params.depthUsd) / params.initialPrice;
    this.fee = params.fee;
  }

  price(fundamental: number): number {
    return fundamental * Math.exp(this.logDeviation);
  }

  /** USD reserve at the current price. */
  usdReserve(fundamental: number): number {
    return Math.sqrt(this.k * this.price(fundamental));
  }

  baseReserve(fundamental: number): number {
    return Math.sqrt(this.k / this.price(fundamental));
  }

  /** USD received for selling `base` units (fee taken from the input), without trading. */
  quoteSell(base: number, fundamental: number): number {
    if (base <= 0) return 0;
    const x = this.baseReserve(fundamental);
    return this.k / x - this.k / (x + base * (1 - this.fee));
  }

  /** USD paid for buying `base` units out of the pool; Infinity beyond MAX_BUY_SHARE of the reserve. */
  quoteBuy(base: number, fundamental: number): number {
    if (base <= 0) return 0;
    const x = this.baseReserve(fundamental);
    if (base > x * MAX_BUY_SHARE) return Number.POSITIVE_INFINITY;
    return (this.k / (x - base) - this.k / x) / (1 - this.fee);
  }

  sell(base: number, fundamental: number): number {
    if (base <= 0) return 0;
    const x = this.baseReserve(fundamental);
    const after = x + base * (1 - this.fee);
    this.moveTo(this.k / (after * after), fundamental);
    return this.k / x - this.k / after;
  }

  /** Buys `base` units; the caller keeps `base` within maxBuy. */
  buy(base: number, fundamental: number): number {
    if (base <= 0) return 0;
    const x = this.baseReserve(fundamental);
    const after = x - base;
    this.moveTo(this.k / (after * after), fundamental);
    return (this.k / after - this.k / x) / (1 - this.fee);
  }

  maxBuy(fundamental: number): number {
    return this.baseReserve(fundamental) * MAX_BUY_SHARE;
  }

  /** Base units that can be sold before the pool's log deviation reaches `floor` (< 0); 0 if already below. */
  sellableTo(floor: number, fundamental: number): number {
    if (this.logDeviation <= floor) return 0;
    const target = Math.sqrt(this.k / (fundamental * Math.exp(floor)));
    return (target - this.baseReserve(fundamental)) / (1 - this.fee);
  }

  /** Base units that can be bought before the log deviation reaches `ceiling` (> 0); 0 if already above. */
  buyableTo(ceiling: number, fundamental: number): number {
    if (this.logDeviation >= ceiling) return 0;
    const target = Math.sqrt(this.k / (fundamental * Math.exp(ceiling)));
    return Math.min(this.baseReserve(fundamental) - target, this.maxBuy(fundamental));
  }

  /** Arbitrage over one step: the deviation shrinks by `factor` = 2^(-dt / halfLife). */
  decay(factor: number): void {
    this.logDeviation *= factor;
  }

  private moveTo(price: number, fundamental: number): void {
    this.logDeviation = Math.log(price / fundamental);
  }
}
