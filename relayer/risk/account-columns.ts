import type { CompiledAccount } from './compiled-account.js';

/**
 * Every account's numbers as floats, struct of arrays, indexed by account number: what the
 * index reads on a move (float-verdict.ts, trigger-placement.ts) in place of the object graph
 * of compiled accounts and their bigints. Per account 8 bytes of base plus 8 per market of the
 * catalog (a position's size, 0 where it has none): a catalog is a chain's few markets.
 */
export class AccountColumns {
  readonly markets: number;
  /** base / Q: USD base units. */
  base: Float64Array;
  /** At id * markets + market: scaledSize / Q, USD base units per feed unit of price; 0 = no position. */
  sizes: Float64Array;
  #capacity: number;

  constructor(params: { markets: number; capacity?: number }) {
    this.markets = params.markets;
    this.#capacity = params.capacity ?? 1024;
    this.base = new Float64Array(this.#capacity);
    this.sizes = new Float64Array(this.#capacity * this.markets);
  }

  /** Bytes per account. */
  get bytesPerAccount(): number {
    return 8 * (1 + this.markets);
  }

  /** Writes the account's floats; each value is its exact bigint rounded, then divided by Q once. */
  set(id: number, account: CompiledAccount, denominator: number): void {
    if (id >= this.#capacity) this.#grow(id + 1);
    this.base[id] = Number(account.base) / denominator;
    const offset = id * this.markets;
    this.sizes.fill(0, offset, offset + this.markets);
    for (const leg of account.legs) this.sizes[offset + leg.market] = Number(leg.scaledSize) / denominator;
  }

  #grow(needed: number): void {
    let capacity = this.#capacity * 2;
    while (capacity < needed) capacity *= 2;
    const base = new Float64Array(capacity);
    base.set(this.base);
    const sizes = new Float64Array(capacity * this.markets);
    sizes.set(this.sizes);
    this.base = base;
    this.sizes = sizes;
    this.#capacity = capacity;
  }
}
