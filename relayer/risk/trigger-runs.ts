/** Whose trigger an entry is: an account number and the version of its triggers. */
export interface TriggerEntry {
  readonly id: number;
  readonly version: number;
}

/** New entries wait unsorted until this many, then become a sorted run. */
const BUFFER = 1024;
/** Scratch of `Entries.sorted`, shared: the sort runs to completion before anything else. */
const PACKED = new Float64Array(BUFFER);
const PACKED_WORDS = new Uint32Array(PACKED.buffer);

/**
 * The index's sorted structure: (key, account, version) entries in typed arrays, 16 bytes each
 * and no objects. A 'max' structure holds triggers below the current level (they fire when the
 * level falls to them), a 'min' one those above it. Entries are never removed in place:
 * re-evaluating an account bumps its version, and entries with an old version are dropped when
 * drained or compacted.
 *
 * Sorted runs of falling sizes (each built at least twice the next, so about log2(n / BUFFER)
 * of them) and a small unsorted buffer. A move drains from each run the suffix beyond the new
 * level, found by binary search: the entries it hands out are read in sequence, and taking
 * them costs one store. A run is only ever written when it is built by a merge, amortized a few
 * copies per entry.
 */
export class TriggerRuns {
  /** Keys are stored times the sign, so both orders drain the largest stored keys. */
  readonly #sign: number;
  /** Ascending by stored key; the live part of each is its first `#lengths[i]` entries. */
  #runs: Entries[] = [];
  #lengths: number[] = [];
  /** Each run's length when it was built: what merging goes by. */
  #built: number[] = [];
  #buffer = new Entries(BUFFER);
  #bufferLength = 0;

  constructor(order: 'max' | 'min') {
    this.#sign = order === 'max' ? 1 : -1;
  }

  get size(): number {
    return this.#lengths.reduce((sum, length) => sum + length, this.#bufferLength);
  }

  push(key: number, entry: TriggerEntry): void {
    const stored = this.#sign * key;
    // A level that is not a number is due on the first drain: the account is looked at again.
    this.#buffer.set(this.#bufferLength, Number.isNaN(stored) ? Number.POSITIVE_INFINITY : stored, entry.id, entry.version);
    this.#bufferLength += 1;
    if (this.#bufferLength === BUFFER) this.#flush();
  }

  /** Entries at or beyond `limit` (key >= limit for 'max', <= for 'min'), dead ones included. */
  countDue(limit: number): number {
    const stored = this.#sign * limit;
    let count = 0;
    for (let r = 0; r < this.#runs.length; r++) {
      const length = this.#lengths[r] ?? 0;
      count += length - firstAtLeast(this.#runs[r] as Entries, length, stored);
    }
    for (let i = 0; i < this.#bufferLength; i++) if (this.#buffer.key(i) >= stored) count += 1;
    return count;
  }

  /** Takes out every entry at or beyond `limit` and hands it to `visit`, in no particular order. */
  drain(limit: number, visit: (id: number, version: number) => void): void {
    const stored = this.#sign * limit;
    for (let r = 0; r < this.#runs.length; r++) {
      const run = this.#runs[r] as Entries;
      const length = this.#lengths[r] ?? 0;
      const from = firstAtLeast(run, length, stored);
      for (let i = from; i < length; i++) visit(run.id(i), run.version(i));
      this.#lengths[r] = from;
    }
    const buffer = this.#buffer;
    for (let i = 0; i < this.#bufferLength; ) {
      if (buffer.key(i) < stored) {
        i += 1;
        continue;
      }
      visit(buffer.id(i), buffer.version(i));
      this.#bufferLength -= 1;
      buffer.copy(i, buffer, this.#bufferLength);
    }
    this.#dropEmptyRuns();
  }

  /** Keeps only entries for which `isLive` holds. */
  compact(isLive: (id: number, version: number) => boolean): void {
    for (let r = 0; r < this.#runs.length; r++) this.#lengths[r] = (this.#runs[r] as Entries).keepLive(this.#lengths[r] ?? 0, isLive);
    this.#bufferLength = this.#buffer.keepLive(this.#bufferLength, isLive);
    this.#dropEmptyRuns();
  }

  /**
   * The buffer becomes a run; runs not at least twice the size of the next are merged. Sizes as
   * built, not as drained: a move that drains a large run must not make the next push merge it.
   */
  #flush(): void {
    this.#runs.push(this.#buffer.sorted(this.#bufferLength));
    this.#lengths.push(this.#bufferLength);
    this.#built.push(this.#bufferLength);
    this.#bufferLength = 0;
    for (let n = this.#runs.length; n >= 2 && (this.#built[n - 2] ?? 0) < 2 * (this.#built[n - 1] ?? 0); n = this.#runs.length) {
      const a = this.#runs[n - 2] as Entries;
      const b = this.#runs[n - 1] as Entries;
      const length = (this.#lengths[n - 2] ?? 0) + (this.#lengths[n - 1] ?? 0);
      const merged = Entries.merged(a, this.#lengths[n - 2] ?? 0, b, this.#lengths[n - 1] ?? 0);
      release(a);
      release(b);
      this.#runs.splice(n - 2, 2, merged);
      this.#lengths.splice(n - 2, 2, length);
      this.#built.splice(n - 2, 2, length);
    }
  }

  #dropEmptyRuns(): void {
    for (let r = this.#runs.length - 1; r >= 0; r--) {
      if (this.#lengths[r] === 0) {
        release(this.#runs[r] as Entries);
        this.#runs.splice(r, 1);
        this.#lengths.splice(r, 1);
        this.#built.splice(r, 1);
      }
    }
  }
}

/**
 * Run storage is recycled, in power-of-two capacities: new ArrayBuffers during a move count as
 * external memory, and past V8's limit for it they start a collection of the whole heap (a
 * million compiled accounts) in the middle of the move.
 */
const POOL = new Map<number, Entries[]>();
/** Spare arrays kept per capacity: several small ones, one large (a large merge is rare). */
const poolDepth = (capacity: number): number => (capacity <= 65_536 ? 8 : 1);

function acquire(length: number): Entries {
  const capacity = 2 ** Math.ceil(Math.log2(Math.max(length, 1)));
  return POOL.get(capacity)?.pop() ?? new Entries(capacity);
}

function release(entries: Entries): void {
  const spare = POOL.get(entries.capacity) ?? [];
  if (spare.length < poolDepth(entries.capacity)) spare.push(entries);
  POOL.set(entries.capacity, spare);
}

/** The first position in the ascending run's first `length` entries whose key is >= `stored`. */
function firstAtLeast(run: Entries, length: number, stored: number): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (run.key(mid) < stored) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Parallel typed arrays of (stored key, id, version). Private to this file and in the innermost
 * loop of the index: its primitives take positions and fields as plain arguments, so no call
 * allocates.
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

  /** The first `la` entries of `a` and `lb` of `b`, both ascending, in one ascending run. */
  static merged(a: Entries, la: number, b: Entries, lb: number): Entries {
    const merged = acquire(la + lb);
    let i = 0;
    let j = 0;
    let out = 0;
    while (i < la || j < lb) {
      if (j >= lb || (i < la && a.key(i) <= b.key(j))) merged.copy(out++, a, i++);
      else merged.copy(out++, b, j++);
    }
    return merged;
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

  /**
   * The first `length` (<= BUFFER) entries, ascending by key, in a new run. A comparator sort costs a call per comparison; instead each key, with its position
   * written into its 10 lowest mantissa bits (a change below 2^-42 of it), is sorted natively as
   * a number, and the positions read back give the order. Keys that differed only in those
   * bits may come out swapped: one insertion pass on the true keys puts them right.
   */
  sorted(length: number): Entries {
    const packed = PACKED;
    for (let i = 0; i < length; i++) {
      const key = this.key(i);
      packed[i] = Number.isFinite(key) ? key : key > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
      // Little-endian (every platform Node runs on): the low word of double i is word 2i.
      PACKED_WORDS[2 * i] = ((PACKED_WORDS[2 * i] ?? 0) & ~(BUFFER - 1)) | i;
    }
    const order = packed.subarray(0, length).sort();
    const words = new Uint32Array(order.buffer, order.byteOffset, 2 * length);
    const run = acquire(length);
    for (let k = 0; k < length; k++) run.copy(k, this, (words[2 * k] ?? 0) & (BUFFER - 1));
    for (let k = 1; k < length; k++) {
      const key = run.key(k);
      if (run.key(k - 1) <= key) continue;
      const id = run.id(k);
      const version = run.version(k);
      let j = k;
      for (; j > 0 && run.key(j - 1) > key; j--) run.copy(j, run, j - 1);
      run.set(j, key, id, version);
    }
    return run;
  }

  /** Keeps the first `length` entries for which `isLive` holds, in order; returns how many. */
  keepLive(length: number, isLive: (id: number, version: number) => boolean): number {
    let kept = 0;
    for (let i = 0; i < length; i++) if (isLive(this.id(i), this.version(i))) this.copy(kept++, this, i);
    return kept;
  }
}
