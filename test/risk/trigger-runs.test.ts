import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../relayer/seeded-random.js';
import { TriggerRuns } from '../../relayer/risk/trigger-runs.js';

/** The ids a drain hands out, ascending (a drain visits in no particular order). */
function drained(heap: TriggerRuns, limit: number): number[] {
  const ids: number[] = [];
  heap.drain(limit, (id) => ids.push(id));
  return ids.sort((a, b) => a - b);
}

const ascending = (ids: number[]): number[] => [...ids].sort((a, b) => a - b);

describe('TriggerRuns', () => {
  it('takes every key at or above the limit (max), counts them first, and keeps the rest', () => {
    const random = new SeededRandom(7);
    const heap = new TriggerRuns('max');
    const keys = Array.from({ length: 5000 }, () => random.between(0, 100));
    keys.forEach((key, id) => heap.push(key, { id, version: 1 }));
    const expected = keys.map((key, id) => ({ key, id })).filter((e) => e.key >= 75);
    expect(heap.countDue(75)).toBe(expected.length);
    const popped = drained(heap, 75);
    expect(popped).toEqual(ascending(expected.map((e) => e.id)));
    expect(heap.size).toBe(5000 - expected.length);
    expect(drained(heap, 75)).toEqual([]);
  });

  it('takes every key at or below the limit (min)', () => {
    const heap = new TriggerRuns('min');
    [5, -3, 8, 0, 2.5, 2.5].forEach((key, id) => heap.push(key, { id, version: 1 }));
    expect(drained(heap, 2.5)).toEqual([1, 3, 4, 5]);
    expect(heap.size).toBe(2);
  });

  it('drops dead entries on compaction and keeps the live ones', () => {
    const random = new SeededRandom(8);
    const heap = new TriggerRuns('max');
    const keys = Array.from({ length: 3000 }, () => random.between(-50, 50));
    keys.forEach((key, id) => heap.push(key, { id, version: id % 3 === 0 ? 2 : 1 }));
    heap.compact((_, version) => version === 2);
    expect(heap.size).toBe(1000);
    const popped = drained(heap, Number.NEGATIVE_INFINITY);
    expect(popped).toEqual(keys.map((_, id) => id).filter((id) => id % 3 === 0));
  });

  it('hands back the version each entry was pushed with', () => {
    const heap = new TriggerRuns('max');
    heap.push(1, { id: 10, version: 4 });
    heap.push(2, { id: 10, version: 5 });
    const seen: [number, number][] = [];
    heap.drain(0, (id, version) => seen.push([id, version]));
    expect(seen.sort()).toEqual([
      [10, 4],
      [10, 5],
    ]);
  });
});

describe('TriggerRuns against a sorted list', () => {
  it.each(['max', 'min'] as const)('takes the same entries through merges and compactions (%s)', (order) => {
    const random = new SeededRandom(order === 'max' ? 9 : 10);
    const heap = new TriggerRuns(order);
    let model: { key: number; id: number; version: number }[] = [];
    const sign = order === 'max' ? 1 : -1;
    let nextId = 0;
    for (let step = 0; step < 300; step++) {
      const roll = random.next();
      if (roll < 0.6) {
        // Bursts large enough to fill the buffer and merge runs.
        for (let i = 0; i < random.int(1, 3000); i++) {
          const entry = { key: Math.round(random.between(-1000, 1000)), id: nextId++, version: random.int(0, 3) };
          heap.push(entry.key, entry);
          model.push(entry);
        }
      } else if (roll < 0.9) {
        const limit = random.between(-1100, 1100);
        const popped: [number, number][] = [];
        const due = model.filter((e) => sign * e.key >= sign * limit);
        expect(heap.countDue(limit)).toBe(due.length);
        heap.drain(limit, (id, version) => popped.push([id, version]));
        model = model.filter((e) => sign * e.key < sign * limit);
        expect(popped.map(([id, version]) => `${id}:${version}`).sort()).toEqual(due.map((e) => `${e.id}:${e.version}`).sort());
      } else {
        const live = random.int(0, 3);
        heap.compact((_, version) => version !== live);
        model = model.filter((e) => e.version !== live);
      }
      expect(heap.size).toBe(model.length);
    }
  });
});
