import type { Hash } from 'viem';
import type { LegKind, Transport } from '../../db/index.js';
import type { CostCurve } from '../planner/types.js';
import type { ShortfallReport } from './shortfall-report.js';

/**
 * One way to bring value to the account's chain, as the chains quote it now: where from, over
 * what, how much at most (token base units), and at what cost (USD, for the planner).
 */
export interface SourcingOption {
  readonly kind: LegKind;
  readonly sourceChainId: number;
  readonly sourceKey: string;
  /** null for a `local` option (it never leaves the chain). */
  readonly transport: Transport | null;
  readonly capacity: bigint;
  readonly fixedCostUsd: number;
  readonly latencySeconds: number;
  /** Variable cost of taking x USD, in USD. */
  readonly cost: CostCurve;
  /** The market a `liquidity` or `local` leg acts on. */
  readonly marketId?: Hash;
  /** For `liquidity`: the most of the position the backstop may absorb (signed like it). */
  readonly positionSize?: bigint;
}

/** The planner's id for an option: `collateral:beta:layerzero`, `local:alpha`. */
export const optionId = (option: SourcingOption): string =>
  [option.kind, option.sourceKey, ...(option.transport ? [option.transport] : [])].join(':');

/** Where options come from: live chain reads in the node, a fixed list in tests and benches. */
export interface OptionSource {
  optionsFor(report: ShortfallReport): Promise<readonly SourcingOption[]>;
}
