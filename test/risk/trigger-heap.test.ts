import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../relayer/seeded-random.js';
import { TriggerHeap } from '../../relayer/risk/trigger-heap.js';

function drained(heap: TriggerHeap, limit: number): number[] {
  const ids: number[] = [];
  heap.drain(limit, (id) => ids.push(id));
  return ids;
}

describe('TriggerHeap', () => {
  it('pops every key at or above the limit, highest first (max), and keeps the rest', () => {
    const random = new SeededRandom(7);
    const heap = new TriggerHeap('max');
    const keys = Array.from({ length: 5000 }, () => random.between(0, 100));
    keys.forEach((key, id) => heap.push(key, { id, version: 1 }));
    const popped = drained(heap, 75);
    const expected = keys.map((key, id) => ({ key, id })).filter((e) => e.key >= 75).sort((a, b) => b.key - a.key);
    expect(popped).toEqual(expected.map((e) => e.id));
    expect(heap.size).toBe(5000 - expected.length);
    expect(drained(heap, 75)).toEqual([]);
  });

  it('pops every key at or below the limit, lowest first (min)', () => {
    const heap = new TriggerHeap('min');
    [5, -3, 8, 0, 2.5, 2.5].forEach((key, id) => heap.push(key, { id, version: 1 }));
    expect(drained(heap, 2.5).map((id) => [5, -3, 8, 0, 2.5, 2.5][id])).toEqual([-3, 0, 2.5, 2.5]);
    expect(heap.size).toBe(2);
  });

  it('drops dead entries on compaction and stays ordered', () => {
    const random = new SeededRandom(8);
    const heap = new TriggerHeap('max');
    const keys = Array.from({ length: 3000 }, () => random.between(-50, 50));
    keys.forEach((key, id) => heap.push(key, { id, version: id % 3 === 0 ? 2 : 1 }));
    heap.compact((_, version) => version === 2);
    expect(heap.size).toBe(1000);
    const popped = drained(heap, Number.NEGATIVE_INFINITY);
    expect(popped).toEqual(keys.map((key, id) => ({ key, id })).filter((e) => e.id % 3 === 0).sort((a, b) => b.key - a.key).map((e) => e.id));
  });

  it('hands back the version each entry was pushed with', () => {
    const heap = new TriggerHeap('max');
    heap.push(1, { id: 10, version: 4 });
    heap.push(2, { id: 10, version: 5 });
    const seen: [number, number][] = [];
    heap.drain(0, (id, version) => seen.push([id, version]));
    expect(seen).toEqual([
      [10, 5],
      [10, 4],
    ]);
  });
});

describe('TriggerHeap against a sorted list', () => {
  it.each(['max', 'min'] as const)('pops the same entries in the same order through merges and compactions (%s)', (order) => {
    const random = new SeededRandom(order === 'max' ? 9 : 10);
    const heap = new TriggerHeap(order);
    let model: { key: number; id: number; version: number }[] = [];
    const sign = order === 'max' ? 1 : -1;
    let nextId = 0;
    for (let step = 0; step < 300; step++) {
      const roll = random.next();
      if (roll < 0.6) {
        // Bursts large enough to push the buffer past its merge threshold.
        for (let i = 0; i < random.int(1, 3000); i++) {
          const entry = { key: Math.round(random.between(-1000, 1000)), id: nextId++, version: random.int(0, 3) };
          heap.push(entry.key, entry);
          model.push(entry);
        }
      } else if (roll < 0.9) {
        const limit = random.between(-1100, 1100);
        const popped: [number, number][] = [];
        heap.drain(limit, (id, version) => popped.push([id, version]));
        const due = model.filter((e) => sign * e.key >= sign * limit);
        model = model.filter((e) => sign * e.key < sign * limit);
        // Keys repeat (rounded), so compare as key-ordered groups of entries.
        const keyOf = new Map(due.map((e) => [e.id, e.key]));
        const poppedKeys = popped.map(([id]) => keyOf.get(id));
        expect(poppedKeys).toEqual(due.map((e) => e.key).sort((a, b) => sign * (b - a)));
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
