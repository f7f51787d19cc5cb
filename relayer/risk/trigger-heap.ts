/** Whose trigger an entry is: an account number and the version of its triggers. */
export interface HeapEntry {
  readonly id: number;
  readonly version: number;
}

/**
 * The index's sorted structure: (key, account, version) entries in typed arrays, so a million
 * cost 16 bytes each and no objects. A 'max' structure holds triggers below the current level
 * (they fire when the level falls to them, highest first), a 'min' one those above it.
 * Entries are never removed in place: re-evaluating an account bumps its version, and entries
 * with an old version are dropped when popped or compacted.
 *
 * Two levels, because a move pops many entries in key order: a sorted run, popped from its end
 * at the cost of a decrement, and a small 4-ary heap that takes new entries and is merged into
 * the run when it grows past a quarter of it (amortized, a few copies per entry).
 */
export class TriggerHeap {
  /** Keys are stored times the sign, so both orders pop the largest stored key first. */
  readonly #sign: number;
  /** Ascending by stored key; the next entry to pop is the last. */
  #run = new Entries(64);
  #runLength = 0;
  /** A max-heap on the stored key. */
  #heap = new Entries(64);
  #heapLength = 0;
  /**
   * Reused by every merge: large typed arrays allocated during a move would count as external
   * memory and can set off a full collection of the whole heap in the middle of it.
   */
  #spare = new Entries(64);
  #sorted = new Entries(64);

  constructor(order: 'max' | 'min') {
    this.#sign = order === 'max' ? 1 : -1;
  }

  get size(): number {
    return this.#runLength + this.#heapLength;
  }

  push(key: number, entry: HeapEntry): void {
    if (this.#heapLength === this.#heap.capacity) this.#heap = this.#heap.grown(this.#heapLength);
    this.#heap.set(this.#heapLength, this.#sign * key, entry.id, entry.version);
    this.#heapLength += 1;
    this.#heap.siftUp(this.#heapLength - 1);
    if (this.#heapLength > 4096 && this.#heapLength > this.#runLength / 4) this.#merge();
  }

  /**
   * Pops every entry at or beyond `limit` (key >= limit for 'max', <= for 'min'), in key order.
   * `visit` must not push into this heap.
   */
  drain(limit: number, visit: (id: number, version: number) => void): void {
    const stored = this.#sign * limit;
    const run = this.#run;
    const heap = this.#heap;
    for (;;) {
      const runKey = this.#runLength > 0 ? run.key(this.#runLength - 1) : Number.NEGATIVE_INFINITY;
      const heapKey = this.#heapLength > 0 ? heap.key(0) : Number.NEGATIVE_INFINITY;
      if (runKey >= heapKey) {
        if (this.#runLength === 0 || runKey < stored) return;
        this.#runLength -= 1;
        visit(run.id(this.#runLength), run.version(this.#runLength));
      } else {
        if (heapKey < stored) return;
        visit(heap.id(0), heap.version(0));
        this.#removeHeapTop();
      }
    }
  }

  /** Keeps only entries for which `isLive` holds. */
  compact(isLive: (id: number, version: number) => boolean): void {
    this.#runLength = this.#run.keepLive(this.#runLength, isLive);
    this.#heapLength = this.#heap.keepLive(this.#heapLength, isLive);
    for (let i = (this.#heapLength - 2) >> 2; i >= 0; i--) this.#heap.siftDown(i, this.#heapLength);
  }

  #removeHeapTop(): void {
    this.#heapLength -= 1;
    if (this.#heapLength === 0) return;
    this.#heap.copy(0, this.#heap, this.#heapLength);
    this.#heap.siftDown(0, this.#heapLength);
  }

  /** Empties the heap into the run: heap entries come out descending, then one linear merge. */
  #merge(): void {
    const count = this.#heapLength;
    if (this.#sorted.capacity < count) this.#sorted = new Entries(this.#heap.capacity);
    const sorted = this.#sorted;
    for (let i = count - 1; i >= 0; i--) {
      sorted.copy(i, this.#heap, 0);
      this.#removeHeapTop();
    }
    const total = this.#runLength + count;
    if (this.#spare.capacity < total) this.#spare = new Entries(total * 2);
    const merged = this.#spare;
    const run = this.#run;
    let a = 0;
    let b = 0;
    let out = 0;
    while (a < this.#runLength || b < count) {
      const takeRun = b >= count || (a < this.#runLength && run.key(a) <= sorted.key(b));
      if (takeRun) merged.copy(out++, run, a++);
      else merged.copy(out++, sorted, b++);
    }
    this.#spare = run;
    this.#run = merged;
    this.#runLength = out;
  }
}

/**
 * Parallel typed arrays of (stored key, id, version), with the 4-ary heap moves. Private to this
 * file and the innermost loop of the index: its primitives take positions and fields as plain
 * arguments, so no call allocates.
 */
class Entries {
  readonly keys: Float64Array;
  readonly ids: Int32Array;
  readonly versions: Uint32Array;

  constructor(readonly capacity: number) {
    this.keys = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
    this.versions = new Uint32Array(capacity);
  }

  key(i: number): number {
    return this.keys[i] ?? Number.NEGATIVE_INFINITY;
  }

  id(i: number): number {
    return this.ids[i] ?? 0;
  }

  version(i: number): number {
    return this.versions[i] ?? 0;
  }

  set(i: number, key: number, id: number, version: number): void {
    this.keys[i] = key;
    this.ids[i] = id;
    this.versions[i] = version;
  }

  copy(i: number, from: Entries, j: number): void {
    this.set(i, from.key(j), from.id(j), from.version(j));
  }

  grown(length: number): Entries {
    const bigger = new Entries(this.capacity * 2);
    bigger.keys.set(this.keys.subarray(0, length));
    bigger.ids.set(this.ids.subarray(0, length));
    bigger.versions.set(this.versions.subarray(0, length));
    return bigger;
  }

  /** Keeps the first `length` entries for which `isLive` holds, in order; returns how many. */
  keepLive(length: number, isLive: (id: number, version: number) => boolean): number {
    let kept = 0;
    for (let i = 0; i < length; i++) if (isLive(this.id(i), this.version(i))) this.copy(kept++, this, i);
    return kept;
  }

  siftUp(start: number): void {
    let i = start;
    const key = this.key(i);
    const id = this.id(i);
    const version = this.version(i);
    while (i > 0) {
      const parent = (i - 1) >> 2;
      if (this.key(parent) >= key) break;
      this.copy(i, this, parent);
      i = parent;
    }
    this.set(i, key, id, version);
  }

  siftDown(start: number, length: number): void {
    let i = start;
    const key = this.key(i);
    const id = this.id(i);
    const version = this.version(i);
    for (;;) {
      const first = 4 * i + 1;
      if (first >= length) break;
      const last = Math.min(first + 4, length);
      let child = first;
      let childKey = this.key(first);
      for (let c = first + 1; c < last; c++) {
        const candidate = this.key(c);
        if (candidate > childKey) {
          child = c;
          childKey = candidate;
        }
      }
      if (key >= childKey) break;
      this.copy(i, this, child);
      i = child;
    }
    this.set(i, key, id, version);
  }
}
