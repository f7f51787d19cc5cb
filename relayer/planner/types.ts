/**
 * The planner's vocabulary (DESIGN.md section 6). Amounts and costs are USD as plain numbers:
 * the planner optimizes; the executor converts the chosen amounts to token base units.
 */

/** The variable cost v(x) of taking x from an option: convex, v(0) = 0. */
export type CostCurve =
  | { readonly type: 'linear'; readonly rate: number }
  | { readonly type: 'quadratic'; readonly a: number; readonly b: number }
  /** Obtaining x out of a constant-product pool: slippage and fee over the mid price. */
  | { readonly type: 'cpmm'; readonly reserveIn: number; readonly reserveOut: number; readonly fee: number };

export interface PlanOption {
  /** e.g. `collateral:beta:layerzero`, `liquidity:gamma:wormhole`, `local:alpha`. */
  readonly id: string;
  readonly capacity: number;
  /** Paid once when the option is used at all: gas on both chains plus the message fee. */
  readonly fixedCost: number;
  /** Seconds until the value is where it is needed. */
  readonly latency: number;
  readonly cost: CostCurve;
}

export interface PlanInstance {
  /** The amount to restore on the destination chain. */
  readonly required: number;
  /** What a second of waiting costs: the plan pays it for its slowest leg. */
  readonly riskPerSecond: number;
  readonly options: readonly PlanOption[];
}

export interface Allocation {
  readonly id: string;
  readonly amount: number;
}

export interface Plan {
  /** The options used, in input order, each with a positive amount. */
  readonly allocations: readonly Allocation[];
  /** Fixed and variable costs of the options used, plus riskPerSecond times the slowest. */
  readonly totalCost: number;
  /** What no combination of options can cover (capacity short). */
  readonly uncovered: number;
  /** True when the plan is proven optimal; otherwise `gapBound` bounds how far it may be. */
  readonly exact: boolean;
  /** totalCost minus a proven lower bound on the optimum (0 when exact). */
  readonly gapBound: number;
}
