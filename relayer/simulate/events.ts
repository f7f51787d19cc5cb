/** What a run records when asked to (tests, debugging): every liquidation, credit and plan. */

/** Why a position was closed or absorbed. */
export type LiquidationReason =
  /** `full`: below maintenance, the whole position. */
  | 'maintenance'
  /** `close-factor`: below maintenance, the close factor or everything. */
  | 'close-factor'
  /** `relayer`: a planned local or backstop leg. */
  | 'plan'
  /** `relayer`: a backstop absorption when a liquidity leg arrives. */
  | 'arrival'
  /** `relayer`: below maintenance after planning, the home backstop takes over what restores health first. */
  | 'protect'
  /** The engine's own rule below maintenance: partial, up to restoring health (DESIGN.md section 4). */
  | 'engine';

export interface LiquidationEvent {
  readonly step: number;
  readonly account: number;
  /** `close`: into the pool; `absorb`: taken over by the backstop at the oracle price. */
  readonly kind: 'close' | 'absorb';
  readonly reason: LiquidationReason;
  /** Share of every position acted on. */
  readonly fraction: number;
  /** Equity at the oracle before the action, USD. */
  readonly equityBefore: number;
  /** The level equity had to be below for the action to be allowed, USD. */
  readonly permittedBelow: number;
  /** Sum of |size| * oracle price of what was closed or absorbed, USD. */
  readonly notional: number;
  /** size * (oracle - entry) of what was closed or absorbed: the PnL at the mark, USD. */
  readonly pnlAtOracle: number;
  /** Execution versus the oracle price (pool fees included), USD; 0 for an absorption. */
  readonly slippage: number;
  readonly penalty: number;
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

export interface PlanRecord {
  readonly step: number;
  readonly account: number;
  /** The risk module's required amount, USD. */
  readonly required: number;
  /** Value already in flight to the account when planning, USD. */
  readonly inFlight: number;
  readonly allocations: readonly { readonly id: string; readonly amount: number }[];
  readonly uncovered: number;
}

export interface RunEvents {
  readonly liquidations: LiquidationEvent[];
  readonly transfers: TransferEvent[];
  readonly plans: PlanRecord[];
}
