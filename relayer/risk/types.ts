/**
 * What the risk engine is fed: markets (static), price rounds and account states, as a watcher
 * reads them from a chain. Units are described in units.ts.
 */

/** A market's id as the chain names it (the MarginEngine's bytes32, as hex). */
export type MarketId = string;
/** An account's address. */
export type AccountId = string;

export interface MarketParams {
  readonly id: MarketId;
  /** Static maintenance margin fraction m_i, WAD; 0 < m < 1. */
  readonly maintenanceFraction: bigint;
  /** The feed's `decimals()`: 8 for Chainlink USD feeds. */
  readonly priceDecimals: number;
  /** The feed's heartbeat: a round older than this is stale. Caps T_oracle. */
  readonly heartbeatSeconds: number;
  /** Floor of the per-second variance of log returns, so a quiet feed never means no risk. */
  readonly varianceFloor: number;
  /** Per-second variance assumed before the first return is seen; the floor when absent. */
  readonly initialVariance?: number;
}

export interface Position {
  readonly market: MarketId;
  /** Signed base size, 1e18 per asset unit; long > 0. */
  readonly size: bigint;
  /** Entry price in the market feed's decimals. */
  readonly entryPrice: bigint;
}

export interface AccountState {
  readonly account: AccountId;
  /** Collateral in USD base units; may be negative after a loss was realized (bad debt). */
  readonly collateral: bigint;
  /** At most one position per market; zero sizes are ignored. */
  readonly positions: readonly Position[];
}

/** A Chainlink `latestRoundData` reading. */
export interface PriceRound {
  readonly market: MarketId;
  readonly roundId: bigint;
  /** The answer with the feed's decimals; must be positive. */
  readonly answer: bigint;
  /** Unix seconds. */
  readonly updatedAt: number;
}

/** What the engine keeps per market between rounds: enough to restore it after a reorg. */
export interface MarketState {
  readonly round: PriceRound | undefined;
  /** EWMA per-second variance of log returns. */
  readonly variance: number;
}
