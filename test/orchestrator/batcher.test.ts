import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../relayer/orchestrator/batcher.js';

/** A batch runner that records each batch it is given and can be told to refuse an input. */
function recorder(params: { refuse?: (n: number) => boolean; holdMs?: number } = {}) {
  const batches: number[][] = [];
  let running = 0;
  let maxRunning = 0;
  const run = async (inputs: readonly number[]) => {
    batches.push([...inputs]);
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    try {
      if (params.holdMs) await new Promise((resolve) => setTimeout(resolve, params.holdMs));
      const refused = inputs.find((n) => params.refuse?.(n));
      if (refused !== undefined) throw new Error(`input ${refused} refused`);
      return inputs.map((n) => n * 10);
    } finally {
      running -= 1;
    }
  };
  return { run, batches, maxRunning: () => maxRunning };
}

describe('the batcher', () => {
  it('runs calls made in the same turn as one batch and gives each caller its own result', async () => {
    const r = recorder();
    const batched = createBatcher({ run: r.run, maxSize: 100, maxInFlight: 1 });
    const results = await Promise.all([1, 2, 3, 4].map((n) => batched(n)));
    expect(results).toEqual([10, 20, 30, 40]);
    expect(r.batches).toEqual([[1, 2, 3, 4]]);
  });

  it('never runs more batches at once than allowed, nor a batch larger than its size', async () => {
    const r = recorder({ holdMs: 20 });
    const batched = createBatcher({ run: r.run, maxSize: 3, maxInFlight: 2 });
    const inputs = Array.from({ length: 20 }, (_, i) => i);
    expect(await Promise.all(inputs.map((n) => batched(n)))).toEqual(inputs.map((n) => n * 10));
    expect(r.maxRunning()).toBe(2);
    expect(Math.max(...r.batches.map((batch) => batch.length))).toBe(3);
    expect(r.batches.flat().sort((a, b) => a - b)).toEqual(inputs);
  });

  it('gathers the calls that arrive while batches run into the next one', async () => {
    const r = recorder({ holdMs: 30 });
    const batched = createBatcher({ run: r.run, maxSize: 100, maxInFlight: 1 });
    const first = batched(0);
    await new Promise((resolve) => setTimeout(resolve, 5)); // the first batch is running
    const rest = [1, 2, 3].map((n) => batched(n));
    await Promise.all([first, ...rest]);
    expect(r.batches).toEqual([[0], [1, 2, 3]]);
  });

  it('fails only the call that cannot succeed: a failed batch is run again one by one', async () => {
    const r = recorder({ refuse: (n) => n === 3 });
    const batched = createBatcher({ run: r.run, maxSize: 100, maxInFlight: 1 });
    const settled = await Promise.allSettled([1, 2, 3, 4].map((n) => batched(n)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([10, 20, 'input 3 refused', 40]);
    expect(r.batches).toEqual([[1, 2, 3, 4], [1], [2], [3], [4]]);
  });

  it('refuses a runner that returns the wrong number of results', async () => {
    const batched = createBatcher<number, number>({ run: async (inputs) => inputs.slice(1), maxSize: 10, maxInFlight: 1 });
    const settled = await Promise.allSettled([1, 2].map((n) => batched(n)));
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect((settled[0] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
  });
});
