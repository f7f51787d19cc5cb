/** Episode numbering, and the undo log's window: pure parts of the watcher. */
import type { Address } from 'viem';
import { describe, expect, it } from 'vitest';
import { EpisodeBook } from '../../relayer/watcher/episode-book.js';
import { UndoLog, type UndoEntry } from '../../relayer/watcher/undo-log.js';

const A: Address = '0x00000000000000000000000000000000000000aa';
const B: Address = '0x00000000000000000000000000000000000000bb';
const none = new Set<Address>();

describe('EpisodeBook', () => {
  it('numbers episodes per account: a breach opens n + 1, a recovery closes it, a repeat changes nothing', () => {
    const book = new EpisodeBook([[B, { episode: 4n, open: false, detectedBlock: 7n, coveredBefore: 0n }]]);
    const atRisk = new Set([A, B]);
    const first = book.decide({ accounts: [A, B], isAtRisk: (a) => atRisk.has(a), suspects: none });
    expect(first.opens).toEqual([
      { account: A, episode: 1n },
      { account: B, episode: 5n },
    ]);
    book.apply(first, { block: 10n, coveredBefore: () => 3n });
    expect(book.decide({ accounts: [A, B], isAtRisk: (a) => atRisk.has(a), suspects: none })).toEqual({ opens: [], closes: [] });

    atRisk.delete(A);
    const recovered = book.decide({ accounts: [A, B], isAtRisk: (a) => atRisk.has(a), suspects: new Set([A]) });
    expect(recovered.opens).toEqual([]);
    expect(recovered.closes).toEqual([{ account: A, episode: { episode: 1n, open: true, detectedBlock: 10n, coveredBefore: 3n }, orphaned: true }]);
    book.apply(recovered, { block: 11n, coveredBefore: () => 0n });
    expect(book.open().map(([account]) => account)).toEqual([B]);
    expect(book.get(A)).toEqual({ episode: 1n, open: false, detectedBlock: 10n, coveredBefore: 3n });

    atRisk.add(A);
    expect(book.decide({ accounts: [A], isAtRisk: (a) => atRisk.has(a), suspects: none }).opens).toEqual([{ account: A, episode: 2n }]);
  });
});

const entry = (from: bigint, to: bigint): UndoEntry => ({
  from,
  to,
  now: 0,
  accounts: new Map(),
  badDebtCovered: new Map(),
  marketStates: new Map(),
  params: undefined,
  engine: { markets: new Map(), insuranceFund: 0n, liquidatorShare: 0n, vault: undefined, backstop: undefined },
});

describe('UndoLog', () => {
  it('undoes ranges newest first down to a block, and knows how far back it reaches', () => {
    const log = new UndoLog();
    log.push(entry(1n, 5n));
    log.push(entry(6n, 6n));
    log.push(entry(7n, 9n));
    expect(log.reaches(0n)).toBe(true);
    log.pruneThrough(5n);
    expect(log.reaches(4n)).toBe(false);
    expect(log.reaches(5n)).toBe(true);
    expect([log.popAfter(6n)?.from, log.popAfter(6n)?.from]).toEqual([7n, undefined]);
    expect(log.popAfter(5n)?.from).toBe(6n);
    expect(log.size).toBe(0);
  });

  it('forgets entries that a gap (a rebuild) cut off from the new ones', () => {
    const log = new UndoLog();
    log.push(entry(1n, 5n));
    log.push(entry(9n, 9n));
    expect(log.size).toBe(1);
    expect(log.reaches(7n)).toBe(false);
  });
});
