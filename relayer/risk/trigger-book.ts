import { RelayerError } from '../errors.js';
import type { Trigger, TriggerSink } from './trigger-placement.js';
import { TriggerRuns, type TriggerEntry } from './trigger-runs.js';

/**
 * Every account's triggers, two sorted structures per market and slot (effective-price.ts): one for levels
 * below the current effective price (popped when it falls to them), one for levels above.
 * Accounts are numbered; an entry counts only while its version is the account's current one.
 */
export class TriggerBook implements TriggerSink {
  readonly #sides: TriggerRuns[] = [];
  readonly #slots: number;
  /** The account being placed: one object per account, shared by its entries' pushes. */
  #entry: TriggerEntry = { id: 0, version: 0 };
  #placed = 0;

  constructor(params: { markets: number; slots: number }) {
    this.#slots = params.slots;
    for (let i = 0; i < params.markets * params.slots; i++) this.#sides.push(new TriggerRuns('max'), new TriggerRuns('min'));
  }

  /** Entries, dead ones included. */
  get size(): number {
    return this.#sides.reduce((sum, side) => sum + side.size, 0);
  }

  /** Triggers added since the last `begin`. */
  get placed(): number {
    return this.#placed;
  }

  /** The following `add`s are the triggers of this account version. */
  begin(entry: TriggerEntry): void {
    this.#entry = entry;
    this.#placed = 0;
  }

  add(trigger: Trigger): void {
    this.#side(trigger).push(trigger.level, this.#entry);
    this.#placed += 1;
  }

  /** How many triggers (dead ones included) `drain` with the same place and limit would take. */
  countDue(params: { market: number; slot: number; below: boolean; limit: number }): number {
    return this.#side(params).countDue(params.limit);
  }

  /** Takes the triggers a fall (`below`) or a rise of the slot's effective price to `limit` passed. */
  drain(params: { market: number; slot: number; below: boolean; limit: number; visit: (id: number, version: number) => void }): void {
    this.#side(params).drain(params.limit, params.visit);
  }

  compact(isLive: (id: number, version: number) => boolean): void {
    for (const side of this.#sides) side.compact(isLive);
  }

  #side(where: { market: number; slot: number; below: boolean }): TriggerRuns {
    const side = this.#sides[(where.market * this.#slots + where.slot) * 2 + (where.below ? 0 : 1)];
    if (side === undefined) throw new RelayerError(`no triggers for market ${where.market} slot ${where.slot}`);
    return side;
  }
}
