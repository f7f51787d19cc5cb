/** What a liquidation strategy is to the engine, and the state of a run it acts on. */
import type { AccountBook } from './book.js';
import type { BlockLimits } from './execution/block-limits.js';
import type { Scenario } from './scenario/schema.js';
import type { Tally } from './tally.js';
import type { Vault } from './vault.js';
import type { World } from './world.js';

export const STRATEGY_NAMES = ['full', 'close-factor', 'relayer'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export function isStrategyName(value: string): value is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(value);
}

/** One strategy's run: its own book, tally and vault over its own world (pools differ by strategy). */
export interface RunState {
  readonly scenario: Scenario;
  readonly world: World;
  readonly book: AccountBook;
  readonly tally: Tally;
  readonly vault: Vault;
  /** The engine's per-block notional caps, for every strategy's liquidations. */
  readonly limits: BlockLimits;
  /** Per account, its surplus sent from another chain and not yet credited, USD. */
  readonly inFlightCollateral: Float64Array;
  /** Maintenance, initial and penalty fractions by market index. */
  readonly maintenance: readonly number[];
  readonly initial: readonly number[];
  readonly penalty: readonly number[];
  /** How far above maintenance a liquidation or a take may restore, by market index (fraction of notional). */
  readonly liquidationBuffer: readonly number[];
}

/** An account the scan found below the strategy's look level, valued at the oracle. */
export interface Candidate {
  readonly account: number;
  readonly equity: number;
  readonly maintenance: number;
  /** sum |p| P rate with the strategy's candidate rates. */
  readonly level: number;
}

export interface Strategy {
  readonly name: StrategyName;
  /** Before the scan: things due at this step (arrivals), and the rates of `candidateRates`. */
  beginStep(state: RunState): void;
  /** Per slot, the fraction of notional below which an account is handed to `act`. */
  candidateRates(): Float64Array;
  /** Acts on the candidates, worst first (lowest equity over level). */
  act(state: RunState, candidates: readonly Candidate[]): void;
  /** After acting: the backstop's unwinding. */
  endStep(state: RunState): void;
}
