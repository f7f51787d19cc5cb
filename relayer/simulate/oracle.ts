/**
 * A Chainlink-style feed on one chain for one market: it follows the market price (the chain's
 * pool), publishing a round when the price moved by the deviation threshold or the heartbeat
 * passed. Following the pool is what lets liquidation flow feed back into health: the cascade.
 */
export class Oracle {
  price: number;
  updatedAt: number;
  roundId = 1;

  readonly deviation: number;
  readonly heartbeatSeconds: number;

  constructor(params: { price: number; deviation: number; heartbeatSeconds: number }) {
    this.price = params.price;
    this.deviation = params.deviation;
    this.heartbeatSeconds = params.heartbeatSeconds;
    this.updatedAt = 0;
  }

  /** Reads the market at `time` (seconds since the start); true when a new round was published. */
  observe(marketPrice: number, time: number): boolean {
    const moved = Math.abs(marketPrice / this.price - 1) >= this.deviation;
    if (!moved && time - this.updatedAt < this.heartbeatSeconds) return false;
    this.price = marketPrice;
    this.updatedAt = time;
    this.roundId += 1;
    return true;
  }
}
