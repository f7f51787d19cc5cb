/**
 * The stuck-leg sweeper, on a 3-chain devnet with the real ledger and Redis. A leg whose
 * delivery job used up its attempts (the VAA source failed until the job gave up) is re-driven
 * after a restart with a working source, credited once, and its settlement completes; a leg
 * whose jobs Redis lost, after a worker died with its send mined, is recovered from the chain
 * (never sent twice) and delivered; a leg past its deadline is left to the refund path.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Hash } from 'viem';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished as onCleanup } from 'vitest';
import { anvilControl } from '../../chains/devnet/control.js';
import { devnetTransports } from '../../chains/devnet/transports.js';
import { DevnetGuardianVaaSource, type PublishedMessage, type VaaSource } from '../../chains/messaging/wormhole/vaa-source.js';
import { usd } from '../../chains/protocol/units.js';
import { getLeg, listLegEvents, registerChains, type LedgerHandle } from '../../db/index.js';
import { RelayerError } from '../../relayer/errors.js';
import { ChainLegExecutor } from '../../relayer/execution/chain-leg-executor.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../relayer/execution/execution-context.js';
import { sendLegStep } from '../../relayer/execution/send-leg.js';
import { defaultPolicySettings, fixedWorld } from '../../relayer/orchestrator/fixed-world.js';
import { startOrchestrator, type Orchestrator } from '../../relayer/orchestrator/orchestrator.js';
import { defaultJobOptions, jobId, openQueues } from '../../relayer/orchestrator/queues.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { chainClock, sweepStuckLegs } from '../../relayer/orchestrator/stuck-leg-sweeper.js';
import { reconcile } from '../../relayer/reconcile/reconcile.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { collateralLeg, createPlan } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { legReceivedLogs, legSentLogs } from './support/devnet-settlement.js';
import { until } from '../watcher/support.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A VAA source that fails (as Wormholescan did with the README's config) until it is fixed. */
class FailingVaaSource implements VaaSource {
  working = false;
  refused = 0;
  private readonly guardian = new DevnetGuardianVaaSource();
  async signedVaa(message: PublishedMessage) {
    if (this.working) return this.guardian.signedVaa(message);
    this.refused += 1;
    throw new RelayerError(`no signed VAA for ${message.emitterChain}/${message.sequence} (HTTP 404): retry later`, { retryable: true });
  }
}

let h: ProtocolHarness;
let ledger: LedgerHandle;
let cleanupLedger: () => Promise<void>;
let connection: Redis;
let context: ExecutionContext;
const vaaSource = new FailingVaaSource();
const account = traderAddress(0);
const running: Orchestrator[] = [];

beforeAll(async () => {
  h = await ProtocolHarness.start();
  ({ ledger, cleanup: cleanupLedger } = await createMigratedLedger());
  await registerChains(ledger.db, h.manifest.chains.map((c) => ({ chainId: c.chainId, key: c.key, lzEid: c.lzEid, wormholeChainId: c.wormholeChainId, confirmations: 0 })));
  const base = devnetExecutionContext({ manifest: h.manifest, transports: h.transports, ledger: ledger.db, actor: 'test-node' });
  context = { ...base, transports: { ...base.transports, wormhole: devnetTransports({ manifest: h.manifest, vaaSource }).wormhole } };
  await h.seed({
    accounts: [
      { trader: 0, chain: 'alpha', deposit: '1000' },
      { trader: 0, chain: 'beta', deposit: '5000', crossChainConsent: true },
    ],
  });
  connection = createRedis(REDIS_URL);
});

afterEach(async () => {
  for (const orchestrator of running.splice(0)) {
    await orchestrator.close();
    await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));
  }
});

afterAll(async () => {
  connection?.disconnect();
  await cleanupLedger?.();
  await h?.stop();
});

/** The node's leg workers (no planning), with the sweeper every 100 ms when `sweeping`. */
function legNode(prefix: string, sweeping: boolean): Orchestrator {
  const orchestrator = startOrchestrator({
    connection,
    prefix,
    ledger: ledger.db,
    worldSource: fixedWorld(),
    policy: defaultPolicySettings,
    chainKeys: new Map(h.manifest.chains.map((c) => [c.chainId, c.key])),
    legExecutor: new ChainLegExecutor(context),
    run: ['legs', 'deliveries', 'sweeps'],
    ...(sweeping ? { stuckLegs: { everyMs: 100, chainTime: chainClock(context) } } : {}),
  });
  running.push(orchestrator);
  return orchestrator;
}

/** A collateral leg beta -> alpha over Wormhole, planned, executable for `ttlSeconds` of chain time. */
async function plannedLeg(ttlSeconds = 3_600n) {
  const deadline = new Date(Number((await h.chainTime(h.beta)) + ttlSeconds) * 1_000);
  const { settlementId, legIds } = await createPlan(ledger.db, {
    chainId: h.alpha.chainId,
    account,
    legs: [collateralLeg(usd('20'), { sourceChainId: h.beta.chainId, destinationChainId: h.alpha.chainId, transport: 'wormhole', account, deadline })],
  });
  const [legId] = legIds;
  if (!legId) throw new Error('no leg planned');
  return { settlementId, legId };
}

const statusOf = async (legId: Hash) => (await getLeg(ledger.db, legId))?.status;

describe('a leg whose delivery job used up its attempts', () => {
  it('is re-driven by the sweeper after a restart with a working VAA source, credited once, and its settlement completes', async () => {
    const prefix = `t-${randomBytes(4).toString('hex')}`;
    const { settlementId, legId } = await plannedLeg();
    const first = legNode(prefix, false);
    // The settlement's flow as the plans worker adds it; the delivery gives up after 2 attempts
    // (the node's 8, with their backoff, end the same way, minutes later).
    await first.queues.flows.add({
      name: 'settle',
      queueName: 'legs',
      data: { settlementId },
      opts: { ...defaultJobOptions, jobId: jobId('settle', settlementId) },
      children: [
        {
          name: 'deliver',
          queueName: 'deliveries',
          data: { legId },
          opts: { ...defaultJobOptions, jobId: jobId('deliver', legId), attempts: 2, backoff: { type: 'fixed', delay: 0 } },
          children: [{ name: 'send', queueName: 'legs', data: { legId }, opts: { ...defaultJobOptions, jobId: jobId('send', legId) } }],
        },
      ],
    });
    await until('the delivery job fails for good', async () => (await first.queues.byName.deliveries.getJobState(jobId('deliver', legId))) === 'failed');
    expect(vaaSource.refused).toBe(2);
    // The job that gave up says so on the leg, which stays sent for the sweeper.
    expect(await getLeg(ledger.db, legId)).toMatchObject({ status: 'sent', attempts: 1, lastError: expect.stringMatching(/^deliver failed for good: /) });
    await first.close();

    vaaSource.working = true;
    const restarted = legNode(prefix, true);
    await restarted.scheduled;
    await until('the leg is credited', async () => (await statusOf(legId)) === 'credited');
    await until('the settlement completes', async () => (await restarted.queues.byName.legs.getJobState(jobId('settle', settlementId))) === 'completed');
    const sweeps = await restarted.queues.byName.sweeps.getCompleted();
    expect(sweeps.flatMap((job) => (job.returnvalue as { redriven: string[] }).redriven)).toContain(`deliver-${legId} (failed)`);
    expect(await legSentLogs(h, h.beta, legId)).toHaveLength(1);
    expect(await legReceivedLogs(h, h.alpha, legId)).toHaveLength(1);
  });
});

describe('a leg whose jobs Redis lost, its worker dead after the send was mined', () => {
  it('is recovered from the chain by the sweeper, never sent twice, and delivered', async () => {
    vaaSource.working = true;
    const { legId } = await plannedLeg();
    const crash = new Error('worker died after its send was mined');
    await expect(sendLegStep({ ...context, onSourceMined: () => Promise.reject(crash) }, legId)).rejects.toBe(crash);
    expect(await statusOf(legId)).toBe('submitted');
    expect(await legSentLogs(h, h.beta, legId)).toHaveLength(1);

    // No job of it in this Redis: a send is added, then, the leg sent, a delivery.
    const node = legNode(`t-${randomBytes(4).toString('hex')}`, true);
    await until('the leg is credited', async () => (await statusOf(legId)) === 'credited');
    const redriven = (await node.queues.byName.sweeps.getCompleted()).flatMap((job) => (job.returnvalue as { redriven: string[] }).redriven);
    expect(redriven).toEqual(expect.arrayContaining([`send-${legId} (gone)`, `deliver-${legId} (gone)`]));
    expect(await legSentLogs(h, h.beta, legId)).toHaveLength(1);
    expect(await legReceivedLogs(h, h.alpha, legId)).toHaveLength(1);
    expect((await listLegEvents(ledger.db, legId)).map((event) => event.toStatus)).toEqual(['planned', 'submitted', 'sent', 'verified', 'delivered', 'credited']);
  });
});

// Last in the file: it moves every chain's clock forward.
describe('a stuck leg past its deadline on its destination', () => {
  it('is not re-driven but left to reconciliation, which refunds it', async () => {
    vaaSource.working = true;
    const betaBefore = (await h.account(h.beta, account)).collateral;
    const { legId } = await plannedLeg(600n);
    await sendLegStep(context, legId);
    for (const chain of h.manifest.chains) {
      const control = anvilControl(h.endpointOf(chain));
      await control.increaseTime({ seconds: 1_200 });
      await control.mine({ blocks: 1 });
    }
    // Only the queues, no workers: what the sweeps decide stays where they put it.
    const queues = openQueues({ connection, prefix: `t-${randomBytes(4).toString('hex')}` });
    onCleanup(async () => {
      await Promise.all(Object.values(queues.byName).map((queue) => queue.obliterate({ force: true })));
      await queues.close();
    });

    const sweep = await sweepStuckLegs({ ledger: ledger.db, queues, chainTime: chainClock(context) });
    expect(sweep.expired).toEqual([legId]);
    expect(sweep.redriven).toEqual([]);
    expect(await queues.byName.deliveries.getJobState(jobId('deliver', legId))).toBe('unknown');
    // A destination whose clock does not answer: the leg is left for the next sweep, not failed.
    const blind = await sweepStuckLegs({ ledger: ledger.db, queues, chainTime: () => Promise.reject(new Error('connection refused')) });
    expect(blind.skipped).toEqual([{ legId, reason: `cannot read the time on chain ${h.alpha.chainId} to judge a leg's deadline: connection refused; the next sweep tries again` }]);
    expect(blind.redriven).toEqual([]);
    // By this machine's clock the deadline is still ahead: a leg is judged by its destination's.
    expect((await sweepStuckLegs({ ledger: ledger.db, queues })).redriven.map((leg) => [leg.legId, leg.job, leg.was])).toEqual([[legId, 'deliver', 'gone']]);
    await queues.byName.deliveries.obliterate({ force: true });

    const result = await reconcile({ context, tokens: new Map(h.manifest.chains.map((c) => [c.chainId, c.contracts.collateralToken])), slaSeconds: 600 });
    expect(result.refunded).toEqual([legId]);
    expect(await statusOf(legId)).toBe('refunded');
    expect((await h.account(h.beta, account)).collateral).toBe(betaBefore);
    expect((await sweepStuckLegs({ ledger: ledger.db, queues, chainTime: chainClock(context) })).checked).toBe(0);
  });
});
