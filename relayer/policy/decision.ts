import type { Transport } from '../../db/index.js';
import type { Plan } from '../planner/types.js';

/**
 * One leg the core decided, in base units. `amount` is what the leg moves: the surplus a
 * collateral leg brings, the margin a liquidity leg gives the backstop, the notional a local
 * leg closes. `relief` is the part of the required amount it is meant to cover.
 */
export type PolicyLeg =
  | {
      readonly kind: 'collateral';
      readonly optionId: string;
      readonly sourceChainId: number;
      readonly transport: Transport;
      readonly amount: bigint;
      readonly relief: bigint;
      readonly latencySeconds: number;
    }
  | {
      readonly kind: 'liquidity';
      readonly optionId: string;
      readonly sourceChainId: number;
      readonly transport: Transport;
      readonly amount: bigint;
      readonly relief: bigint;
      readonly latencySeconds: number;
      readonly marketId: string;
      /** The most notional (base units, at the oracle) the backstop absorbs when it lands. */
      readonly absorbNotional: bigint;
    }
  /** A partial liquidation closing `amount` of notional into the pool. */
  | ({ readonly kind: 'local' } & HomeLegFields)
  /**
   * A Dutch auction of a lot of `amount` of notional (base units at the oracle) of the position
   * (MarginEngine.startAuction); `latencySeconds` is the expected wait to its fill.
   */
  | ({ readonly kind: 'auction' } & HomeLegFields);

/** A leg on the account's own chain, acting on its position in `marketId`. */
interface HomeLegFields {
  readonly optionId: string;
  readonly sourceChainId: number;
  readonly amount: bigint;
  readonly relief: bigint;
  readonly latencySeconds: number;
  readonly marketId: string;
}

export type NoActionReason =
  | 'not at risk'
  /** At risk by its assessment, but what it shows now already meets the target: nothing to add. */
  | 'at its target'
  | 'in flight covers it'
  /** A home action is being mined: the next decision waits for what it does to the account. */
  | 'waiting for a home action'
  | 'below the smallest action'
  /** Below maintenance, but the pool is still past its impact budget from earlier closes: the next chunk waits for arbitrage. */
  | 'waiting for the pool to recover'
  /** Above maintenance, below initial margin: a takeover would cost more in expectation than reducing it locally if it falls to maintenance. */
  | 'left to a local reduction'
  | 'no source can cover it';

export type PolicyDecision =
  | {
      readonly kind: 'none';
      readonly reason: NoActionReason;
      /** Required minus in flight (may be negative). */
      readonly need: bigint;
      /** What no source could cover. */
      readonly uncovered: bigint;
    }
  /**
   * Below maintenance, with nothing landing before a keeper could liquidate it bluntly: the
   * smallest partial liquidation that restores maintenance, now, on the account's own chain.
   */
  | { readonly kind: 'home'; readonly reason: string; readonly need: bigint; readonly legs: readonly PolicyLeg[]; readonly uncovered: 0n }
  /** A plan revision over the sources: the cheapest cover of required minus in flight. */
  | { readonly kind: 'plan'; readonly need: bigint; readonly legs: readonly PolicyLeg[]; readonly uncovered: bigint; readonly plan: Plan };
