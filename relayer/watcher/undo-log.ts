import type { Address, Hex } from 'viem';
import type { EngineAccount, EngineMarket } from '../../chains/protocol/engine-log.js';
import type { MarketParams, MarketState } from '../risk/index.js';

/** What one applied range changed, as it was before: enough to take the range back. */
export interface UndoEntry {
  readonly from: bigint;
  readonly to: bigint;
  readonly now: number;
  /** undefined: the account did not exist before the range. */
  readonly accounts: ReadonlyMap<Address, EngineAccount | undefined>;
  readonly badDebtCovered: ReadonlyMap<Address, bigint | undefined>;
  /** The risk engine's state of each market a round of the range moved. */
  readonly marketStates: ReadonlyMap<Hex, MarketState>;
  /** Set when the range reconfigured a market: the parameters before. */
  readonly params: ReadonlyMap<Hex, MarketParams> | undefined;
  /** The engine's scalars and market list before (a handful of values, copied every time). */
  readonly engine: {
    readonly markets: ReadonlyMap<Hex, EngineMarket>;
    readonly insuranceFund: bigint;
    readonly liquidatorShare: bigint;
    readonly vault: Address | undefined;
    readonly backstop: Address | undefined;
  };
}

/**
 * The undo entries of the ranges applied most recently, oldest first, covering contiguous
 * blocks. Entries wholly older than the reorg window are dropped: a reorg that deep is
 * handled by a rebuild instead.
 */
export class UndoLog {
  readonly #entries: UndoEntry[] = [];

  push(entry: UndoEntry): void {
    const last = this.#entries.at(-1);
    // A gap (after a rebuild, say) makes older entries useless: they could not be chained.
    if (last !== undefined && last.to + 1n !== entry.from) this.#entries.length = 0;
    this.#entries.push(entry);
  }

  /** The newest entry ending after `block`, removed; undefined when none is left. */
  popAfter(block: bigint): UndoEntry | undefined {
    const last = this.#entries.at(-1);
    if (last === undefined || last.to <= block) return undefined;
    return this.#entries.pop();
  }

  /** Whether undoing can bring the state back to `block` (possibly short of it, then replayed). */
  reaches(block: bigint): boolean {
    const first = this.#entries[0];
    return first !== undefined && first.from <= block + 1n;
  }

  /** Drops entries that end at or below `block`: no reorg reaches them any more. */
  pruneThrough(block: bigint): void {
    let drop = 0;
    while (drop < this.#entries.length - 1 && (this.#entries[drop]?.to ?? block + 1n) <= block) drop += 1;
    this.#entries.splice(0, drop);
  }

  clear(): void {
    this.#entries.length = 0;
  }

  get size(): number {
    return this.#entries.length;
  }
}
