import { RelayerError } from '../errors.js';
import type { Trigger, TriggerSink } from './trigger-placement.js';
import { TriggerHeap, type HeapEntry } from './trigger-heap.js';

/**
 * Every account's triggers, two heaps per market and slot (effective-price.ts): one for levels
 * below the current effective price (popped when it falls to them), one for levels above.
 * Accounts are numbered; an entry counts only while its version is the account's current one.
 */
export class TriggerBook implements TriggerSink {
  readonly #heaps: TriggerHeap[] = [];
  readonly #slots: number;
  /** The account being placed: one object per account, shared by its entries' pushes. */
  #entry: HeapEntry = { id: 0, version: 0 };
  #placed = 0;

  constructor(params: { markets: number; slots: number }) {
    this.#slots = params.slots;
    for (let i = 0; i < params.markets * params.slots; i++) this.#heaps.push(new TriggerHeap('max'), new TriggerHeap('min'));
  }

  /** Entries, dead ones included. */
  get size(): number {
    return this.#heaps.reduce((sum, heap) => sum + heap.size, 0);
  }

  /** Triggers added since the last `begin`. */
  get placed(): number {
    return this.#placed;
  }

  /** The following `add`s are the triggers of this account version. */
  begin(entry: HeapEntry): void {
    this.#entry = entry;
    this.#placed = 0;
  }

  add(trigger: Trigger): void {
    this.#heap(trigger).push(trigger.level, this.#entry);
    this.#placed += 1;
  }

  /** Pops the triggers a fall (`below`) or a rise of the slot's effective price to `limit` passed. */
  drain(params: { market: number; slot: number; below: boolean; limit: number; visit: (id: number, version: number) => void }): void {
    this.#heap(params).drain(params.limit, params.visit);
  }

  compact(isLive: (id: number, version: number) => boolean): void {
    for (const heap of this.#heaps) heap.compact(isLive);
  }

  #heap(where: { market: number; slot: number; below: boolean }): TriggerHeap {
    const heap = this.#heaps[(where.market * this.#slots + where.slot) * 2 + (where.below ? 0 : 1)];
    if (heap === undefined) throw new RelayerError(`no trigger heap for market ${where.market} slot ${where.slot}`);
    return heap;
  }
}
