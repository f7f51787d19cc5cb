/**
 * The margin engine's Dutch auctions in the simulated world (MarginEngine startAuction /
 * redoAuction / cancelAuction / take; chains/contracts/src/MarginEngine.sol is the truth), and
 * the world's takers.
 * - start: a lot of at most the position, only below maintenance, one open per position
 *   (`AuctionActive`); the top is oracle x buf for a long lot, oracle / buf for a short.
 * - price: f = cut^floor(elapsed / step), a long lot costs top x f, a short top / f; a reset is
 *   due once elapsed > tail or f < cusp, and no take is allowed until it is redone.
 * - takers are arbitrageurs who hedge at once on the market's deepest venue (its deepest pool on
 *   any chain: an arbitrageur is not held to a thin home pool): they take a long lot when its price
 *   is at most that pool's price x (1 - margin) (a short lot: at least x (1 + margin)), and sell
 *   what they took into it (buy it back, for a short) only while its marginal price still leaves
 *   them the margin, so a pool takes every lot an auction sells and its impact is counted. The
 *   core prices the fill against the home pool (what its snapshot shows); where the deep venue
 *   trades above the home pool, lots fill sooner than it expects. Any keeper may redo an auction that needs it, or cancel one the account no
 *   longer needs; the takers do both, the relayer pays for neither.
 * - take: cut to the lot, the position, what restores the close level (maintenance plus the
 *   market's liquidation buffer) at the auction price (the engine's `_takeCap`: per unit
 *   x - P (1 + pen - m - buffer) for a long, P (1 + m + buffer - pen) - x for a short; none when
 *   that gains nothing, as such a take would worsen the account) and what the
 *   block's cap leaves. The account books the auction price against its entry and pays the
 *   penalty at the oracle; a lot emptied or an account restored closes the auction.
 * Deterministic: auctions are visited in the order they started.
 */
import type { LiquidationEvent } from '../events.js';
import type { RunState } from '../strategy.js';
import { HEALTH_ROUNDING_MARGIN_USD, type AccountLevels } from './account-levels.js';
import { writeOffIfFlat } from './close-positions.js';

/** A take or a lot below this many USD of notional is nothing (a rounding sliver). */
const DUST_USD = 1e-6;

interface OpenAuction {
  readonly account: number;
  /** The position's index in the book. */
  readonly position: number;
  readonly market: number;
  readonly slot: number;
  /** Units left to sell, signed like the position. */
  lot: number;
  top: number;
  /** Seconds (world time) of the start or the last reset. */
  tic: number;
  /** The relayer's leg that started it: the relief it was decided for and when it started. */
  readonly relief: bigint;
  readonly legStartedAt: number;
}

export class EngineAuctions {
  /** By position index, in the order they started (a Map keeps insertion order). */
  private readonly open = new Map<number, OpenAuction>();
  /** Per market, the slot of its deepest pool: where takers hedge. */
  private readonly venues: readonly number[];

  constructor(
    private readonly state: RunState,
    /** E, MM and IM as the engine computes them for an account. */
    private readonly levels: (account: number) => AccountLevels,
    /** The world's takers' margin below (above) the pool's price. */
    private readonly takerMargin: number,
  ) {
    const { world } = state;
    this.venues = Array.from({ length: world.marketCount }, (_, market) => {
      let best = world.slot(0, market);
      for (let chain = 1; chain < world.chainCount; chain++) {
        const slot = world.slot(chain, market);
        if (world.pool(slot).k > world.pool(best).k) best = slot;
      }
      return best;
    });
  }

  /** `startAuction` of `notional` USD of the position; false where the engine refuses it. */
  start(params: { account: number; position: number; notional: number; relief: bigint }): boolean {
    const { state } = this;
    const { book, world } = state;
    const { account, position: k } = params;
    const market = book.positionMarket[k] ?? 0;
    const config = state.scenario.markets[market]?.auction;
    const size = book.positionSize[k] ?? 0;
    if (!config || size === 0 || this.open.has(k) || !(params.notional > 0)) return false;
    const levels = this.levels(account);
    if (!(levels.equity < levels.maintenance)) return false;
    const slot = world.slot(book.home[account] ?? 0, market);
    const oracle = world.oraclePrices[slot] ?? 0;
    if (!(oracle > 0)) return false;
    const units = Math.min(Math.abs(size), params.notional / oracle);
    this.open.set(k, {
      account,
      position: k,
      market,
      slot,
      lot: size > 0 ? units : -units,
      top: size > 0 ? oracle * config.buf : oracle / config.buf,
      tic: world.time,
      relief: params.relief,
      legStartedAt: world.time,
    });
    return true;
  }

  /** The relief of the account's auction legs still in flight: open, and started within `deadlineSeconds`. */
  legsInFlight(account: number, deadlineSeconds: number): bigint[] {
    const now = this.state.world.time;
    const legs: bigint[] = [];
    for (const auction of this.open.values()) if (auction.account === account && now - auction.legStartedAt <= deadlineSeconds) legs.push(auction.relief);
    return legs;
  }

  /** Whether the position has an auction open on the engine. */
  isOpen(position: number): boolean {
    return this.open.has(position);
  }

  /** One step of the takers over every open auction. */
  step(): void {
    for (const auction of [...this.open.values()]) this.visit(auction);
  }

  private visit(auction: OpenAuction): void {
    const { state } = this;
    const { book, world } = state;
    const config = state.scenario.markets[auction.market]?.auction;
    const size = book.positionSize[auction.position] ?? 0;
    const levels = this.levels(auction.account);
    // Nothing left on the lot's side, or the account restored: a keeper cancels it.
    if (!config || size === 0 || size > 0 !== auction.lot > 0 || !(levels.equity < levels.maintenance)) {
      this.open.delete(auction.position);
      return;
    }
    const oracle = world.oraclePrices[auction.slot] ?? 0;
    let factor = config.cut ** Math.floor((world.time - auction.tic) / config.stepSeconds);
    if (world.time - auction.tic > config.tailSeconds || factor < config.cusp) {
      // redoAuction: a fresh top at the oracle, the lot cut to the position.
      auction.lot = Math.abs(auction.lot) <= Math.abs(size) ? auction.lot : size;
      auction.top = size > 0 ? oracle * config.buf : oracle / config.buf;
      auction.tic = world.time;
      factor = 1;
    }
    this.take({ auction, price: size > 0 ? auction.top * factor : auction.top / factor, levels, oracle });
  }

  private take(params: { auction: OpenAuction; price: number; levels: AccountLevels; oracle: number }): void {
    const { auction, price, levels, oracle } = params;
    const { state, takerMargin } = this;
    const { book, world } = state;
    const k = auction.position;
    const size = book.positionSize[k] ?? 0;
    const long = size > 0;
    const pool = world.pool(this.venues[auction.market] ?? auction.slot);
    const fundamental = world.fundamental(auction.market);
    const poolPrice = pool.price(fundamental);
    if (long ? price > poolPrice * (1 - takerMargin) : price < poolPrice * (1 + takerMargin)) return;
    const m = (state.maintenance[auction.market] ?? 0) + (state.liquidationBuffer[auction.market] ?? 0);
    const penaltyRate = state.penalty[auction.market] ?? 0;
    const gain = long ? price - oracle * (1 + penaltyRate - m) : oracle * (1 + m - penaltyRate) - price;
    if (!(gain > 0)) return;
    const restores = (levels.closeLevel - levels.equity + HEALTH_ROUNDING_MARGIN_USD) / gain;
    // What the taker can hedge while the pool's marginal price still leaves its margin.
    const hedge = long
      ? pool.sellableTo(Math.log(price / ((1 - takerMargin) * fundamental)), fundamental)
      : pool.buyableTo(Math.log(price / ((1 + takerMargin) * fundamental)), fundamental);
    const amount = Math.min(Math.abs(auction.lot), Math.abs(size), restores, hedge, state.limits.sizeWithin(auction.slot, world.step, oracle));
    if (!(amount * oracle > DUST_USD)) return;

    state.limits.use(auction.slot, world.step, amount * oracle);
    const signed = long ? amount : -amount;
    const entry = book.positionEntry[k] ?? 0;
    const penalty = penaltyRate * amount * oracle;
    book.collateral[auction.account] = (book.collateral[auction.account] ?? 0) + signed * (price - entry) - penalty;
    const whole = Math.abs(size) - amount <= DUST_USD / oracle;
    book.positionSize[k] = whole ? 0 : size - signed;
    // The taker hedges on its venue: the lot's sale moves that market.
    if (long) pool.sell(amount, fundamental);
    else pool.buy(amount, fundamental);
    auction.lot = Math.abs(auction.lot) - amount <= DUST_USD / oracle ? 0 : auction.lot - signed;
    const after = this.levels(auction.account);
    if (auction.lot === 0 || whole || !(after.equity < after.maintenance)) this.open.delete(k);
    const writeOff = writeOffIfFlat(state, auction.account);
    const event: LiquidationEvent = {
      step: world.step,
      account: auction.account,
      kind: 'auction',
      reason: 'auction',
      fraction: amount / Math.abs(size),
      equityBefore: levels.equity,
      permittedBelow: levels.maintenance,
      notional: amount * oracle,
      limitNotional: Math.min(Math.abs(auction.lot) + amount, restores) * oracle,
      pnlAtOracle: signed * (oracle - entry),
      slippage: long ? amount * (oracle - price) : amount * (price - oracle),
      penalty,
      writeOff,
      auction: { long, price, poolPrice },
    };
    state.tally.liquidation(event);
  }
}
