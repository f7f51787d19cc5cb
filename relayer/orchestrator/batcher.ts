/**
 * Gathers the calls that concurrent jobs make at about the same time into one batch, so that
 * 64 jobs recording their rows cost one statement and one commit instead of 64 (a round trip,
 * not the work, is what a write costs here). Under light load a call runs alone and at once;
 * under heavy load calls queue while `maxInFlight` batches run and go together in the next.
 *
 * A batch that fails is run again one call at a time, so a call that cannot succeed fails
 * only its own job, and the others' jobs are not retried for it.
 */
export interface BatcherOptions<In, Out> {
  /** Runs a batch; returns one result per input, in order. */
  readonly run: (inputs: readonly In[]) => Promise<readonly Out[]>;
  readonly maxSize: number;
  readonly maxInFlight: number;
}

interface Pending<In, Out> {
  readonly input: In;
  readonly resolve: (value: Out) => void;
  readonly reject: (reason: unknown) => void;
}

export type Batched<In, Out> = (input: In) => Promise<Out>;

export function createBatcher<In, Out>(options: BatcherOptions<In, Out>): Batched<In, Out> {
  const waiting: Pending<In, Out>[] = [];
  let inFlight = 0;
  let flushScheduled = false;

  const runChecked = async (inputs: readonly In[]): Promise<readonly Out[]> => {
    const results = await options.run(inputs);
    if (results.length !== inputs.length) throw new Error(`a batch of ${inputs.length} returned ${results.length} results`);
    return results;
  };

  const runBatch = async (batch: Pending<In, Out>[]): Promise<void> => {
    try {
      const results = await runChecked(batch.map((pending) => pending.input));
      batch.forEach((pending, i) => pending.resolve(results[i] as Out));
    } catch (error) {
      if (batch.length === 1) batch[0]?.reject(error);
      else for (const pending of batch) await runBatch([pending]);
    }
  };

  const flush = (): void => {
    flushScheduled = false;
    while (inFlight < options.maxInFlight && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxSize);
      inFlight += 1;
      void runBatch(batch).finally(() => {
        inFlight -= 1;
        flush();
      });
    }
  };

  return (input) =>
    new Promise<Out>((resolve, reject) => {
      waiting.push({ input, resolve, reject });
      // Wait for the rest of this turn of the event loop: jobs woken together join one batch.
      if (!flushScheduled && inFlight < options.maxInFlight) {
        flushScheduled = true;
        setImmediate(flush);
      }
    });
}
