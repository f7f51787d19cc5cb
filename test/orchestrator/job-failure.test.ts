import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Job } from 'bullmq';
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLeg, type LedgerHandle } from '../../db/index.js';
import { RelayerError } from '../../relayer/errors.js';
import { createLogger } from '../../relayer/log/logger.js';
import { defaultPolicySettings, fixedWorld } from '../../relayer/orchestrator/fixed-world.js';
import { startOrchestrator, type LegExecutor, type Orchestrator } from '../../relayer/orchestrator/orchestrator.js';
import { jobId } from '../../relayer/orchestrator/queues.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { BETA, collateralLeg, createPlan, seedChains } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';

/** Send fails for good on `refused`; on `flaky` it fails once (retryable), then succeeds. */
class ScriptedExecutor implements LegExecutor {
  readonly sends = new Map<Hash, number>();
  constructor(private readonly script: { refused: Hash; flaky: Hash }) {}
  async sendLeg(legId: Hash): Promise<void> {
    const n = (this.sends.get(legId) ?? 0) + 1;
    this.sends.set(legId, n);
    if (legId === this.script.refused) throw new RelayerError(`leg ${legId} refused by the source vault`, { cause: new Error('execution reverted: LegExpired') });
    if (legId === this.script.flaky && n === 1) throw new RelayerError(`sending leg ${legId} failed`, { cause: new Error('socket hang up'), retryable: true });
  }
  async deliverLeg(): Promise<void> {}
}

let handle: LedgerHandle;
let cleanup: () => Promise<void>;
const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
let orchestrator: Orchestrator | undefined;

beforeAll(async () => {
  ({ ledger: handle, cleanup } = await createMigratedLedger());
  await seedChains(handle.db);
});

afterAll(async () => {
  await orchestrator?.close();
  await Promise.all(Object.values(orchestrator?.queues.byName ?? {}).map((queue) => queue.obliterate({ force: true })));
  redis.disconnect();
  await cleanup();
});

async function settled(job: () => Promise<Job | undefined>): Promise<Job> {
  for (;;) {
    const found = await job();
    const state = await found?.getState();
    if (found && (state === 'failed' || state === 'completed')) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the processor wrapper of every worker', () => {
  it('ends a non-retryable failure at its first attempt and records why on the leg; retries a retryable one', async () => {
    const { legIds, settlementId } = await createPlan(handle.db, { legs: [collateralLeg(1_000n), collateralLeg(2_000n)] });
    const [refused, flaky] = legIds as [Hash, Hash];
    const executor = new ScriptedExecutor({ refused, flaky });
    orchestrator = startOrchestrator({
      connection: redis,
      prefix: `jf-${randomBytes(4).toString('hex')}`,
      ledger: handle.db,
      worldSource: fixedWorld(),
      policy: defaultPolicySettings,
      chainKeys: new Map([[BETA, 'beta']]),
      legExecutor: executor,
      run: ['legs'],
      log: createLogger({ level: 'debug', destination: sink }),
    });
    const legs = orchestrator.queues.byName.legs;
    for (const legId of legIds) await legs.add('send', { legId }, { jobId: jobId('send', legId), attempts: 4, backoff: { type: 'fixed', delay: 20 } });

    const refusedJob = await settled(() => legs.getJob(jobId('send', refused)));
    expect(await refusedJob.getState()).toBe('failed');
    expect(refusedJob.attemptsMade).toBe(1);
    expect(executor.sends.get(refused)).toBe(1);
    expect(refusedJob.failedReason).toContain('refused by the source vault');
    const recorded = await getLeg(handle.db, refused);
    expect({ attempts: recorded?.attempts, status: recorded?.status }).toEqual({ attempts: 1, status: 'planned' });
    expect(recorded?.lastError).toMatch(/^send failed for good: leg 0x[0-9a-f]{64} refused by the source vault$/);

    const flakyJob = await settled(() => legs.getJob(jobId('send', flaky)));
    expect(await flakyJob.getState()).toBe('completed');
    expect(executor.sends.get(flaky)).toBe(2);
    expect((await getLeg(handle.db, flaky))?.lastError).toBeNull();

    // The failure's line: the fixed keys and the cause chain.
    const failure = lines.find((line) => line.leg === refused && line.msg === 'job failed: not retryable');
    expect(failure).toMatchObject({ level: 50, at: 'Worker::legs', job: `send-${refused}`, leg: refused, chain: 'beta', settlement: settlementId, attempt: 1, retryable: false });
    expect(failure?.err).toMatchObject({ type: 'RelayerError', retryable: false, causes: [{ type: 'Error', message: 'execution reverted: LegExpired' }] });
    const retried = lines.find((line) => line.leg === flaky && line.msg === 'job failed; retrying');
    expect(retried).toMatchObject({ level: 40, attempt: 1, attempts: 4, retryable: true, err: { causes: [{ message: 'socket hang up' }] } });
    expect(lines.find((line) => line.leg === flaky && line.msg === 'job done')).toMatchObject({ attempt: 2 });
  });
});
