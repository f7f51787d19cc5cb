/**
 * The protocol-owned liquidity (DESIGN.md section 4): a reserve per chain, liquidity in flight
 * between chains, and the backstop's inventory of absorbed positions per (chain, market) slot.
 * The inventory is a perp position: absorbing moves no cash, it ties up initial margin; its
 * value is size * (oracle - entry). Netting an opposite absorption realizes PnL into the
 * reserve. USD as numbers.
 */
export class Vault {
  /** Cash per chain, USD. */
  readonly reserve: Float64Array;
  /** Liquidity burnt on one chain and not yet minted on another, USD. */
  inFlight = 0;
  /** Signed size per slot, asset units. */
  readonly inventory: Float64Array;
  /** Average entry price per slot, USD per unit. */
  readonly entry: Float64Array;
  readonly initialValue: number;
  private readonly marketCount: number;
  /** Initial margin fraction per market: what the backstop must hold against its inventory. */
  private readonly initialFractions: readonly number[];

  constructor(params: { reserves: readonly number[]; marketCount: number; initialFractions: readonly number[] }) {
    const { reserves, marketCount } = params;
    this.marketCount = marketCount;
    this.initialFractions = params.initialFractions;
    this.reserve = Float64Array.from(reserves);
    this.inventory = new Float64Array(reserves.length * marketCount);
    this.entry = new Float64Array(reserves.length * marketCount);
    this.initialValue = reserves.reduce((sum, r) => sum + r, 0);
  }

  /** Margin the chain's inventory ties up at the oracle prices, USD. */
  committed(chain: number, prices: Float64Array): number {
    let margin = 0;
    for (let m = 0; m < this.marketCount; m++) {
      const slot = chain * this.marketCount + m;
      margin += Math.abs(this.inventory[slot] ?? 0) * (prices[slot] ?? 0) * (this.initialFractions[m] ?? 1);
    }
    return margin;
  }

  /** The chain's inventory marked at `prices` against its entries, USD. */
  unrealized(chain: number, prices: Float64Array): number {
    let pnl = 0;
    for (let m = 0; m < this.marketCount; m++) {
      const slot = chain * this.marketCount + m;
      pnl += (this.inventory[slot] ?? 0) * ((prices[slot] ?? 0) - (this.entry[slot] ?? 0));
    }
    return pnl;
  }

  /** What the chain's vault can still commit or send: its equity there above the margin its inventory needs, USD. */
  free(chain: number, prices: Float64Array): number {
    return Math.max(0, (this.reserve[chain] ?? 0) + this.unrealized(chain, prices) - this.committed(chain, prices));
  }

  /** Reserve plus liquidity in flight plus the inventory marked at `prices`, USD. */
  value(prices: Float64Array): number {
    let value = this.inFlight;
    for (const cash of this.reserve) value += cash;
    this.inventory.forEach((size, slot) => {
      if (size !== 0) value += size * ((prices[slot] ?? 0) - (this.entry[slot] ?? 0));
    });
    return value;
  }

  send(chain: number, amount: number): void {
    this.reserve[chain] = (this.reserve[chain] ?? 0) - amount;
    this.inFlight += amount;
  }

  receive(chain: number, amount: number): void {
    this.inFlight -= amount;
    this.reserve[chain] = (this.reserve[chain] ?? 0) + amount;
  }

  credit(chain: number, amount: number): void {
    this.reserve[chain] = (this.reserve[chain] ?? 0) + amount;
  }

  /**
   * Adds `size` at `price` to a slot's inventory (average cost); the part that nets an
   * opposite inventory realizes its PnL into the chain's reserve. Returns the PnL realized.
   */
  trade(params: { slot: number; size: number; price: number }): number {
    const { slot, size, price } = params;
    const held = this.inventory[slot] ?? 0;
    const entry = this.entry[slot] ?? 0;
    let realized = 0;
    if (held === 0 || Math.sign(held) === Math.sign(size)) {
      const total = held + size;
      this.entry[slot] = (held * entry + size * price) / total;
      this.inventory[slot] = total;
    } else {
      const closed = Math.min(Math.abs(size), Math.abs(held)) * Math.sign(held);
      realized = closed * (price - entry);
      const rest = held + size;
      this.inventory[slot] = Math.abs(rest) < 1e-12 * Math.abs(held) ? 0 : rest;
      // Flipped through zero: the remainder is a new position at this price.
      if (Math.sign(rest) !== Math.sign(held)) this.entry[slot] = price;
      const chain = Math.floor(slot / this.marketCount);
      this.reserve[chain] = (this.reserve[chain] ?? 0) + realized;
    }
    return realized;
  }
}
