/**
 * A leg worker killed for real (process exit) between its source transaction and the ledger
 * write, then another worker on the same queues: the leg completes once, never sent twice.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usd } from '../../chains/protocol/units.js';
import { getLeg, listLegEvents, type LedgerHandle } from '../../db/index.js';
import { defaultPolicySettings } from '../../relayer/orchestrator/fixed-world.js';
import { startOrchestrator } from '../../relayer/orchestrator/orchestrator.js';
import { jobId } from '../../relayer/orchestrator/queues.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { createMigratedLedger, type TestDatabase } from '../db/support/test-database.js';
import { REDIS_URL, until } from '../watcher/support.js';
import {
  breachOnAlpha,
  closeAndObliterate,
  collateralOf,
  collateralSource,
  handMadeWorld,
  legReceivedLogs,
  legSentLogs,
  legsOfShortfall,
  registerDevnetChains,
  settleCompleted,
} from './support/devnet-settlement.js';
import { spawnLegWorker, type LegWorkerProcess } from './support/leg-worker-process.js';

/** The crashing worker's exit code: any other exit (or a signal) is a different failure. */
const CRASH_EXIT = 86;

let h: ProtocolHarness;
let ledger: LedgerHandle;
let database: TestDatabase;
let cleanupLedger: () => Promise<void>;
let connection: Redis;

beforeAll(async () => {
  h = await ProtocolHarness.start();
  const created = await createMigratedLedger();
  ({ ledger, database } = created);
  cleanupLedger = created.cleanup;
  await registerDevnetChains(ledger.db, h);
  connection = createRedis(REDIS_URL);
  await h.seed({
    accounts: [
      { trader: 0, chain: 'alpha', deposit: '1000' },
      { trader: 0, chain: 'beta', deposit: '5000', crossChainConsent: true },
    ],
  });
});

afterAll(async () => {
  connection?.disconnect();
  await cleanupLedger?.();
  await h?.stop();
});

describe('a leg worker that dies between the chain write and the ledger write', () => {
  // Two worker processes start (tsx compiles each) and the stalled job waits out its lock: give it room.
  it('exits after the source transaction is mined; a restarted worker finds it on chain and completes the leg once', { timeout: 120_000 }, async () => {
    const account = traderAddress(0);
    const amount = usd('250');
    const prefix = `crash-${randomBytes(4).toString('hex')}`;
    const before = { alpha: await collateralOf(h, h.alpha, account), beta: await collateralOf(h, h.beta, account) };
    const supplyBefore = await h.totalSupply();
    // This node only plans: with no leg executor the leg jobs wait in Redis for the workers below.
    const planner = startOrchestrator({
      connection,
      prefix,
      ledger: ledger.db,
      worldSource: handMadeWorld(h, [collateralSource(h.beta, 'layerzero', 0.5)]),
      policy: defaultPolicySettings,
      chainKeys: new Map(h.manifest.chains.map((chain) => [chain.chainId, chain.key])),
      run: ['shortfalls', 'plans'],
    });
    const workers: LegWorkerProcess[] = [];
    try {
      const shortfallId = await planner.reportShortfall(await breachOnAlpha(h, { account, required: '250' }));
      await until('the settlement is planned', async () => (await planner.queues.byName.plans.getJob(jobId('plan', shortfallId)))?.finishedOn !== undefined);
      const [leg, ...others] = await legsOfShortfall(ledger.db, shortfallId);
      if (!leg) throw new Error('no leg planned');
      expect(others).toEqual([]);
      expect([leg.status, leg.sourceChainId, leg.amount]).toEqual(['planned', h.beta.chainId, amount]);

      const configFile = await h.seedFile(`leg-worker-${prefix}.json`, {
        manifest: h.manifest,
        databaseUrl: database.url,
        redisUrl: REDIS_URL,
        prefix,
        // The dead worker's lock on the send job expires after 1 s; the next worker looks every 200 ms.
        lockDurationMs: 1_000,
        stalledIntervalMs: 200,
      });
      const crashed = spawnLegWorker({ configFile, exitOnSourceMined: CRASH_EXIT });
      workers.push(crashed);
      expect(await crashed.exited, crashed.output()).toBe(CRASH_EXIT);
      const [mined, ...moreMined] = crashed.sourceMined();
      expect(moreMined).toEqual([]);
      expect(mined?.legId).toBe(leg.id);

      // Dead at the worst moment: the value left beta, the ledger still says `submitted`.
      expect((await getLeg(ledger.db, leg.id))?.status).toBe('submitted');
      expect((await legSentLogs(h, h.beta, leg.id)).map((log) => log.transactionHash)).toEqual([mined?.txHash]);
      expect(await collateralOf(h, h.beta, account)).toBe(before.beta - amount);
      expect(await collateralOf(h, h.alpha, account)).toBe(before.alpha);
      // Its send job is still active under the lock of a process that is gone.
      const sendJob = jobId('send', leg.id);
      expect(await (await planner.queues.byName.legs.getJob(sendJob))?.getState()).toBe('active');

      const restarted = spawnLegWorker({ configFile });
      workers.push(restarted);
      await settleCompleted(planner.queues, {
        limitMs: 90_000,
        check: () => {
          if (!restarted.running()) throw new Error(`the restarted worker exited:\n${restarted.output()}`);
        },
      });

      // The stalled job ran again, and the second run found the first run's transaction.
      expect((await planner.queues.byName.legs.getJob(sendJob))?.stalledCounter).toBe(1);
      expect((await getLeg(ledger.db, leg.id))?.status).toBe('credited');
      const events = await listLegEvents(ledger.db, leg.id);
      expect(events.map((event) => event.toStatus)).toEqual(['planned', 'submitted', 'sent', 'verified', 'delivered', 'credited']);
      expect(events.find((event) => event.toStatus === 'sent')?.txHash).toBe(mined?.txHash);
      expect(events.find((event) => event.toStatus === 'credited')?.amount).toBe(amount);
      expect(await legSentLogs(h, h.beta, leg.id)).toHaveLength(1);
      expect(await legReceivedLogs(h, h.alpha, leg.id)).toHaveLength(1);
      expect(await collateralOf(h, h.beta, account)).toBe(before.beta - amount);
      expect(await collateralOf(h, h.alpha, account)).toBe(before.alpha + amount);
      expect(await h.totalSupply()).toBe(supplyBefore);
      expect(await restarted.stop()).toBe(0); // SIGTERM: it drains and exits cleanly
    } finally {
      for (const worker of workers) await worker.stop();
      await closeAndObliterate(planner);
    }
  });
});
