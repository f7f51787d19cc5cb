/** What a run records when asked to (tests, debugging): every liquidation, credit and plan. */

/** Why a position was closed or absorbed. */
export type LiquidationReason =
  /** `full`: below maintenance, the whole position. */
  | 'maintenance'
  /** `close-factor`: below maintenance, the close factor or everything. */
  | 'close-factor'
  /** `relayer`: the decision core's home action: a partial liquidation now, below maintenance. */
  | 'home'
  /** `relayer`: the local leg of a plan the decision core made. */
  | 'plan'
  /** `relayer`: the backstop's absorption when a liquidity leg lands (`absorbUpTo`). */
  | 'arrival'
  /** `relayer`: a take of an auction the core started (the takers are the world's). */
  | 'auction';

export interface LiquidationEvent {
  readonly step: number;
  readonly account: number;
  /**
   * `close`: into the pool; `absorb`: taken over by the backstop at the oracle price; `auction`:
   * taken at the auction's price by a taker who hedged it in the pool.
   */
  readonly kind: 'close' | 'absorb' | 'auction';
  readonly reason: LiquidationReason;
  /** Share of every position acted on. */
  readonly fraction: number;
  /** Equity at the oracle before the action, USD. */
  readonly equityBefore: number;
  /** The level equity had to be below for the action to be allowed, USD: MM for a close, IM for an absorption. */
  readonly permittedBelow: number;
  /** Sum of |size| * oracle price of what was closed or absorbed, USD. */
  readonly notional: number;
  /**
   * The most notional the engine's rule allowed at that moment (the close that restores
   * maintenance, the absorption that restores initial margin), USD; set by the relayer's
   * engine-rule actions only.
   */
  readonly limitNotional?: number;
  /** size * (oracle - entry) of what was closed or absorbed: the PnL at the mark, USD. */
  readonly pnlAtOracle: number;
  /** Execution versus the oracle price (pool fees included), USD; 0 for an absorption. */
  readonly slippage: number;
  readonly penalty: number;
  /** An auction take: its price per unit and the pool's price when it was taken. */
  readonly auction?: { readonly long: boolean; readonly price: number; readonly poolPrice: number };
  /** Negative collateral of a now flat account, written off as bad debt, USD. */
  readonly writeOff: number;
}

export interface TransferEvent {
  readonly step: number;
  readonly account: number;
  /** `send`: surplus left another chain; `credit`: it arrived on the home chain. */
  readonly kind: 'send' | 'credit';
  readonly amount: number;
}

/** A decision of the core the relayer strategy acted on (or that found no source). */
export interface PlanRecord {
  readonly step: number;
  readonly account: number;
  /** `home`: an immediate home action; `plan`: a plan revision; `none`: nothing could cover the need. */
  readonly kind: 'home' | 'plan' | 'none';
  /** The risk module's required amount, USD. */
  readonly required: number;
  /** Value already in flight to the account when planning, USD. */
  readonly inFlight: number;
  /** Per leg: its option id and the relief (USD of required amount) it was decided to cover. */
  readonly allocations: readonly { readonly id: string; readonly amount: number }[];
  /** What no source could cover, USD. */
  readonly uncovered: number;
}

export interface RunEvents {
  readonly liquidations: LiquidationEvent[];
  readonly transfers: TransferEvent[];
  readonly plans: PlanRecord[];
}
