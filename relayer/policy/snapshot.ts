/**
 * What the decision core sees of one account and its world (DESIGN.md section 7b). The node
 * fills it from the chains and the ledger, the simulator from its world; the core decides from
 * it alone. Money is collateral base units (6-decimal USD) as bigint; fractions, prices of
 * waiting and gas estimates are plain numbers, as the planner takes them.
 */
import type { Transport } from '../../db/index.js';

export interface PolicyAssessment {
  /** The risk module's verdict: the account breaches (or is forecast to breach) its warn level. */
  readonly atRisk: boolean;
  /** E, signed. */
  readonly equity: bigint;
  /** MM at the static fractions: below it the engine lets anyone liquidate. */
  readonly maintenance: bigint;
  /** IM: below it the backstop may absorb. */
  readonly initial: bigint;
  /** What restores E >= MM_eff (1 + target), and no more. */
  readonly required: bigint;
}

/** One open position at its chain's oracle. */
export interface PolicyPosition {
  readonly marketId: string;
  /** |p| P in base units. */
  readonly notional: bigint;
  readonly long: boolean;
  readonly maintenanceFraction: number;
  readonly initialFraction: number;
  /**
   * How far above maintenance, per USD of notional, the engine lets a liquidation or an auction
   * take restore the account (MarginEngine.MarketConfig.liquidationBuffer): it may close up to
   * its close level, sum |p| P (m + buffer), once it is below maintenance.
   */
  readonly liquidationBufferFraction: number;
  /** m_eff (1 + target): the requirement the required amount restores, per USD of notional. */
  readonly targetFraction: number;
  /** Taken by a liquidation or an absorption, per USD of notional. */
  readonly penalty: number;
  /** The oracle price the engine values the position at, USD per unit of the asset. */
  readonly oraclePrice: number;
  /** The risk module's EWMA volatility of the market's log returns, per square root of a second. */
  readonly sigma: number;
  /**
   * The backstop's own position in this market on this chain (what it absorbed and still holds),
   * signed notional at the oracle in base units (> 0 long): an absorption queues behind it to be unwound.
   */
  readonly backstopNotional: bigint;
  /**
   * The pool a partial liquidation closes into (and the backstop unwinds through), as it is now:
   * its quote reserve (base units), its base reserve (units of the asset) and fee. The pool's price
   * is quote over base, which may sit off the oracle after trades until arbitrage restores it.
   */
  readonly pool: { readonly quoteReserve: bigint; readonly baseReserve: number; readonly fee: number };
  /**
   * The market's Dutch auction (MarginEngine.AuctionConfig as numbers: buf >= 1, cut in (0, 1),
   * cusp in (0, 1], step and tail in seconds); undefined: the market has no auction.
   */
  readonly auction?: { readonly buf: number; readonly cut: number; readonly cusp: number; readonly stepSeconds: number; readonly tailSeconds: number };
  /**
   * Notional (base units, at the oracle) the engine's per-market per-block cap still allows this
   * block (MarginEngine.blockLimits().notionalLeft); undefined: no cap. Every close, takeover and
   * auction lot the core decides in the market stays within it.
   */
  readonly blockNotionalLeft?: bigint;
}

/** Value already on its way to the account: what it will cover, and when it lands. */
export interface PolicyInFlight {
  /** `auction`: an open auction of the account (the engine refuses a second one, `AuctionActive`). */
  readonly kind: 'collateral' | 'liquidity' | 'local' | 'auction';
  readonly relief: bigint;
  /** Seconds from now until it is credited (0: due now). */
  readonly etaSeconds: number;
}

export interface PolicyRoute {
  readonly transport: Transport;
  /** Gas on both chains plus the message fee, USD. */
  readonly fixedCostUsd: number;
  /** Expected seconds from send to credit. */
  readonly latencySeconds: number;
}

/** Value on another chain that can be brought to the account's chain. */
export interface PolicySource {
  /** `collateral`: the account's own consented surplus there; `liquidity`: the vault's reserve there. */
  readonly kind: 'collateral' | 'liquidity';
  readonly chainId: number;
  readonly key: string;
  /** What it holds now, net of what other plans have reserved (base units). */
  readonly capacity: bigint;
  readonly routes: readonly PolicyRoute[];
}

/**
 * No `insuranceLossLeft`: the engine's insurance-loss cap per block never refuses a close. A
 * bankrupt account's close still closes; the fund covers its negative collateral within what the
 * block's cap leaves and defers the rest (BadDebtCoverDeferred, then anyone's `coverBadDebt` in a
 * later block), so no action the core chooses, nor its size, depends on it.
 */
export interface PolicyTerms {
  /** The price of waiting, per second and per USD still needed. */
  readonly riskPerSecondPerUsd: number;
  /** A need below this (base units) is not worth a transaction. */
  readonly minAction: bigint;
  /** The vault's opportunity cost per USD of margin it commits to a takeover. */
  readonly liquidityRate: number;
  /** A home action's gas (USD) and seconds until it is mined. */
  readonly homeGasUsd: number;
  readonly homeLatencySeconds: number;
  /** The confidence multiplier of the risk price of holding an absorbed position (the risk module's z). */
  readonly z: number;
  /** The most one home close may move its pool's price off the oracle (a fraction in (0, 1)); the next waits for arbitrage. */
  readonly localImpactBudget: number;
  /** The most the backstop's unwinding may move a pool's price off the oracle per block (a fraction in (0, 1)). */
  readonly unwindImpactBudget: number;
  /** Seconds between two trades the protocol can make into a pool: a block on chain, a step in the simulator. */
  readonly blockSeconds: number;
  /** Half-life of a pool's deviation from the oracle under arbitrage (0: restored by the next block). */
  readonly arbitrageHalfLifeSeconds: number;
  /**
   * Auction takers fill when the auction price is better than the pool's by this fraction (below
   * pool x (1 - margin) for a long lot, above pool x (1 + margin) for a short). Undefined: the
   * core does not know the takers and offers no auction.
   */
  readonly auctionTakerMargin?: number;
}

export interface PolicySnapshot {
  readonly account: string;
  readonly chainId: number;
  readonly chainKey: string;
  readonly assessment: PolicyAssessment;
  readonly positions: readonly PolicyPosition[];
  readonly inFlight: readonly PolicyInFlight[];
  readonly sources: readonly PolicySource[];
  /** Routes this episode already saw fail or miss their SLA: planned around. */
  readonly avoid: readonly { readonly chainId: number; readonly kind: 'collateral' | 'liquidity'; readonly transport: Transport }[];
  readonly terms: PolicyTerms;
}
