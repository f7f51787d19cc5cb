/**
 * Issue 13: a leg refused by its destination is re-planned over another source. On the devnet
 * (real anvil chains and contracts, Redis, Postgres, the orchestrator's queues and workers): a
 * node without delivery workers plans revision 0 of a shortfall on alpha, the account's surplus
 * on beta, and sends it; the chains' clocks pass the leg's deadline; a node with every worker
 * takes over. Alpha's vault refuses the delivery (LegExpired), the leg fails, reconciliation
 * refunds it to beta, and the closed loop plans revision 1 around the failed route (the
 * snapshot's `avoid`) from the next cheapest source, which is credited.
 */
import { randomBytes } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Hash } from 'viem';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { vaultAbi } from '../../chains/contracts/out/Vault.js';
import { anvilControl } from '../../chains/devnet/control.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import type { SeedFile } from '../../chains/devnet/seed.js';
import { usd } from '../../chains/protocol/units.js';
import { closeShortfall, episodeStates, listLegEvents, reservedOnSources, settlements, shortfalls, type Leg, type LedgerHandle, type Transport } from '../../db/index.js';
import { ChainLegExecutor } from '../../relayer/execution/chain-leg-executor.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../relayer/execution/execution-context.js';
import { defaultPolicySettings } from '../../relayer/orchestrator/fixed-world.js';
import { nodeSnapshot } from '../../relayer/orchestrator/node-snapshot.js';
import { startOrchestrator, type Orchestrator } from '../../relayer/orchestrator/orchestrator.js';
import { jobId, type QueueName } from '../../relayer/orchestrator/queues.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { shortfallIdOfReport } from '../../relayer/orchestrator/shortfall-report.js';
import { reconcile } from '../../relayer/reconcile/reconcile.js';
import { decide, type PolicySource } from '../../relayer/policy/index.js';
import { ProtocolHarness, STATUS, traderAddress } from '../contracts/protocol-harness.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { REDIS_URL, until } from '../watcher/support.js';
import { breachOnAlpha, collateralOf, collateralSource, handMadeWorld, legReceivedLogs, legSentLogs, legsOfShortfall, registerDevnetChains } from './support/devnet-settlement.js';

let h: ProtocolHarness;
let ledger: LedgerHandle;
let cleanupLedger: () => Promise<void>;
let connection: Redis;
let context: ExecutionContext;
/** Trader 0 keeps 1000 USD on alpha (no position, so a hand-made world applies) and 5000 USD, with consent, on beta and on gamma. */
const account = traderAddress(0);
const SEED: SeedFile = {
  accounts: [
    { trader: 0, chain: 'alpha', deposit: '1000' },
    { trader: 0, chain: 'beta', deposit: '5000', crossChainConsent: true },
    { trader: 0, chain: 'gamma', deposit: '5000', crossChainConsent: true },
  ],
};
const required = usd('250');
/** How far the chains' clocks move while revision 0 is on its way: past its deadline, short of revision 1's. */
const OUTAGE_SECONDS = 1_200;

beforeAll(async () => {
  h = await ProtocolHarness.start();
  ({ ledger, cleanup: cleanupLedger } = await createMigratedLedger());
  await registerDevnetChains(ledger.db, h);
  connection = createRedis(REDIS_URL);
  context = devnetExecutionContext({ manifest: h.manifest, transports: h.transports, ledger: ledger.db, actor: 'test-node' });
  await h.seed(SEED);
});

// Each node's review looks at every open episode in the ledger: each test's episode ends with it.
afterEach(async () => {
  const open = await ledger.db.select({ id: shortfalls.id }).from(shortfalls).where(eq(shortfalls.status, 'open'));
  for (const { id } of open) await closeShortfall(ledger.db, { shortfallId: id, closedAt: new Date(), badDebt: 0n });
});

afterAll(async () => {
  connection?.disconnect();
  await cleanupLedger?.();
  await h?.stop();
});

const tokens = () => new Map(h.manifest.chains.map((chain) => [chain.chainId, chain.contracts.collateralToken]));

/** The account's surplus on `chain` (as `collateralSource` offers it) over each transport given, at its fixed cost a leg. */
function surplusOn(chain: ManifestChain, costs: Partial<Record<Transport, number>>): PolicySource {
  const routes = Object.entries(costs).flatMap(([transport, cost]) => collateralSource(chain, transport as Transport, cost).routes);
  return { ...collateralSource(chain, 'wormhole', 0), routes };
}

/** A leg deadline, in seconds from now on this machine's clock, that leaves `ttl` seconds of alpha's clock however far the tests moved it ahead. */
async function deadlineLeaving(ttl: number): Promise<number> {
  const ahead = Number(await h.chainTime(h.alpha)) - Math.floor(Date.now() / 1000);
  return Math.max(ahead, 0) + ttl;
}

/** A node on `prefix` over the hand-made `sources`, executing on the chains; `run` as the node config's. */
function startNodeOn(params: { prefix: string; sources: readonly PolicySource[]; legDeadlineSeconds: number; run?: readonly QueueName[]; reconciles?: boolean }): Orchestrator {
  return startOrchestrator({
    connection,
    prefix: params.prefix,
    ledger: ledger.db,
    worldSource: handMadeWorld(h, params.sources),
    policy: defaultPolicySettings,
    chainKeys: new Map(h.manifest.chains.map((chain) => [chain.chainId, chain.key])),
    legExecutor: new ChainLegExecutor(context),
    legDeadlineSeconds: params.legDeadlineSeconds,
    // No review within a test: every decision after the first comes from a settlement that ended.
    reviewEveryMs: 3_600_000,
    ...(params.run ? { run: params.run } : {}),
    ...(params.reconciles
      ? {
          reconciler: {
            everyMs: 1_000,
            run: async () => {
              const result = await reconcile({ context, tokens: tokens(), slaSeconds: 3_600 });
              return { findings: result.findings.length, refunded: result.refunded };
            },
          },
        }
      : {}),
  });
}

/** Closes the node and removes its queues from Redis. */
async function closeAndRemove(node: Orchestrator): Promise<void> {
  await node.close();
  await Promise.all(Object.values(node.queues.byName).map((queue) => queue.obliterate({ force: true })));
}

const refundedLogs = (chain: ManifestChain, legId: Hash) =>
  h.relayerOn(chain).public.getContractEvents({ address: chain.contracts.vault, abi: vaultAbi, eventName: 'LegRefunded', args: { legId }, fromBlock: 0n });

const lastDecisionOf = async (shortfallId: Hash) => {
  const [row] = await ledger.db.select().from(shortfalls).where(eq(shortfalls.id, shortfallId));
  return row?.detail['lastDecision'] as { reason?: string } | undefined;
};

interface Case {
  readonly name: string;
  /** Revision 0's route: beta over this transport, the cheapest of all. */
  readonly refused: Transport;
  readonly sources: () => PolicySource[];
  /** Revision 1's route: the cheapest the failed one leaves. */
  readonly replanned: () => { chain: ManifestChain; transport: Transport };
}

const CASES: Case[] = [
  {
    name: 'over Wormhole from beta, re-planned from gamma',
    refused: 'wormhole',
    // Beta over LayerZero is still offered, dearer than gamma: the route is avoided, not the chain.
    sources: () => [surplusOn(h.beta, { wormhole: 0.5, layerzero: 3 }), surplusOn(h.gamma, { wormhole: 1 })],
    replanned: () => ({ chain: h.gamma, transport: 'wormhole' }),
  },
  {
    name: 'over LayerZero from beta, re-planned from beta over Wormhole',
    refused: 'layerzero',
    sources: () => [surplusOn(h.beta, { layerzero: 0.5, wormhole: 1 }), surplusOn(h.gamma, { layerzero: 3 })],
    replanned: () => ({ chain: h.beta, transport: 'wormhole' }),
  },
];

describe('a leg refused by its destination', () => {
  it.each(CASES)('$name: failed, refunded, and its shortfall covered by the next revision', async ({ refused, sources, replanned }) => {
    const { chain: nextChain, transport: nextTransport } = replanned();
    const before = new Map(await Promise.all(h.manifest.chains.map(async (chain) => [chain.chainId, await collateralOf(h, chain, account)] as const)));
    const supplyBefore = await h.totalSupply();
    const prefix = `replan-${randomBytes(4).toString('hex')}`;
    const report = await breachOnAlpha(h, { account, required: '250' });
    const shortfallId = shortfallIdOfReport(report);

    // Revision 0, planned and sent by a node whose deliveries are down.
    const planner = startNodeOn({ prefix, sources: sources(), legDeadlineSeconds: await deadlineLeaving(600), run: ['shortfalls', 'plans', 'legs'] });
    // Whatever is left under the prefix goes with the test, however it ends.
    onTestFinished(() => closeAndRemove(planner));
    let planned: Leg | undefined;
    try {
      expect(await planner.reportShortfall(report)).toBe(shortfallId);
      await until('revision 0 is sent', async () => (await legsOfShortfall(ledger.db, shortfallId)).some((leg) => leg.status === 'sent'));
      const recorded = await legsOfShortfall(ledger.db, shortfallId);
      expect(recorded.map((leg) => [leg.kind, leg.sourceChainId, leg.transport, leg.status, leg.amount])).toEqual([['collateral', h.beta.chainId, refused, 'sent', required]]);
      planned = recorded[0];
    } finally {
      await planner.close();
    }
    const first = planned;
    if (!first?.sourceBlock) throw new Error('revision 0 has no source block');
    // In flight, it holds its amount of the account's surplus on beta, as read before it burned.
    const betaSurplus = { sourceChainId: h.beta.chainId, source: 'surplus', account, observedBlock: first.sourceBlock - 1n } as const;
    expect(await reservedOnSources(ledger.db, [betaSurplus])).toEqual([required]);
    const [sent] = await legSentLogs(h, h.beta, first.id);
    expect(await collateralOf(h, h.beta, account)).toBe((before.get(h.beta.chainId) ?? 0n) - required);

    // The chains' clocks pass its deadline before anyone delivers it.
    for (const chain of h.manifest.chains) {
      const control = anvilControl(h.endpointOf(chain));
      await control.increaseTime({ seconds: OUTAGE_SECONDS });
      await control.mine({ blocks: 1 });
    }
    expect(await h.chainTime(h.alpha)).toBeGreaterThan(sent?.args.deadline ?? 0n);

    // A node with every worker: the delivery is refused, the leg refunded, the loop re-plans.
    const node = startNodeOn({ prefix, sources: sources(), legDeadlineSeconds: await deadlineLeaving(3_600), reconciles: true });
    try {
      await until(
        'revision 0 is refunded, a later revision credited, and the loop finds the account at its target',
        async () => {
          const recorded = await legsOfShortfall(ledger.db, shortfallId);
          const later = recorded.filter((leg) => leg.settlementId !== first.settlementId);
          const lost = later.filter((leg) => leg.status === 'failed' || leg.status === 'refunded');
          if (lost.length > 0) throw new Error(`re-planned legs lost: ${lost.map((leg) => `${leg.id} ${leg.status}: ${leg.lastError ?? ''}`).join('; ')}`);
          const refundedFirst = recorded.find((leg) => leg.id === first.id)?.status === 'refunded';
          return refundedFirst && later.length > 0 && later.every((leg) => leg.status === 'credited') && (await lastDecisionOf(shortfallId))?.reason === 'at its target';
        },
        45_000,
      );
      // The delivery job ended for good with the vault's reason, and did not hold its settlement:
      // revision 0's `settle` ran (and asked for revision 1), as did revision 1's.
      const delivery = await node.queues.byName.deliveries.getJob(jobId('deliver', first.id));
      expect(await delivery?.getState()).toBe('failed');
      expect(delivery?.failedReason).toMatch(/LegExpired\(/);
      expect(await (await node.queues.byName.legs.getJob(jobId('settle', first.settlementId)))?.getState()).toBe('completed');
    } finally {
      await closeAndRemove(node);
    }

    // The ledger: revisions 0 and 1 of the one shortfall; 0's leg failed on the refusal and was
    // refunded, 1's leg, from the other route, credited the whole requirement.
    const revisions = await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, shortfallId)).orderBy(asc(settlements.revision));
    expect(revisions.map((r) => [r.revision, r.requiredAmount, r.coveredAmount])).toEqual([
      [0, required, required],
      [1, required, required],
    ]);
    const [failed, credited, ...more] = await legsOfShortfall(ledger.db, shortfallId);
    expect(more).toEqual([]);
    expect([failed?.settlementId, failed?.status, failed?.failedFrom]).toEqual([revisions[0]?.id, 'refunded', 'sent']);
    expect((await listLegEvents(ledger.db, first.id)).map((event) => event.toStatus)).toEqual(['planned', 'submitted', 'sent', 'failed', 'refunded']);
    expect(failed?.lastError).toMatch(/^destination refused: .*LegExpired\(/);
    expect([credited?.settlementId, credited?.kind, credited?.sourceChainId, credited?.destinationChainId, credited?.transport, credited?.status, credited?.amount]).toEqual([
      revisions[1]?.id,
      'collateral',
      nextChain.chainId,
      h.alpha.chainId,
      nextTransport,
      'credited',
      required,
    ]);
    const creditedId = credited?.id ?? '0x';
    // Every reservation released: neither surplus holds anything, at the block revision 0 read nor now.
    const now = (chain: ManifestChain) => h.relayerOn(chain).public.getBlockNumber({ cacheTime: 0 });
    expect(
      await reservedOnSources(ledger.db, [
        betaSurplus,
        { ...betaSurplus, observedBlock: await now(h.beta) },
        { sourceChainId: h.gamma.chainId, source: 'surplus', account, observedBlock: await now(h.gamma) },
      ]),
    ).toEqual([0n, 0n, 0n]);

    // Why revision 1 went elsewhere: the snapshot avoids the failed route, and without that the
    // core would take it again for the same need.
    const state = (await episodeStates(ledger.db, [shortfallId])).get(shortfallId);
    if (!state) throw new Error('the episode is not in the ledger');
    // The account has no position: no market's target fraction is asked for.
    const world = await handMadeWorld(h, sources()).worldFor({ chainId: h.alpha.chainId, account, targetFraction: () => 0, sigma: () => 0 });
    const snapshot = nodeSnapshot({ state, world, chainKey: h.alpha.key, terms: defaultPolicySettings, latencySeconds: defaultPolicySettings.latencySeconds, now: new Date() });
    expect(snapshot.avoid).toEqual([{ chainId: h.beta.chainId, kind: 'collateral', transport: refused }]);
    const routeFor = (avoid: typeof snapshot.avoid) => {
      const decision = decide({ ...snapshot, assessment: { ...snapshot.assessment, required }, avoid });
      return decision.kind === 'none' ? [] : decision.legs.map((leg) => [leg.sourceChainId, 'transport' in leg ? leg.transport : null, leg.amount]);
    };
    expect(routeFor(snapshot.avoid)).toEqual([[nextChain.chainId, nextTransport, required]]);
    expect(routeFor([])).toEqual([[h.beta.chainId, refused, required]]);

    // The chains: revision 0 burned on beta, never received on alpha, canceled there and refunded
    // to beta once; revision 1 burned on its source and received on alpha once.
    expect(await legSentLogs(h, h.beta, first.id)).toHaveLength(1);
    expect(await legReceivedLogs(h, h.alpha, first.id)).toEqual([]);
    expect(await h.inboundStatus(h.alpha, first.id)).toBe(STATUS.canceled);
    expect(await h.outboundStatus(h.beta, first.id)).toBe(STATUS.refunded);
    expect((await refundedLogs(h.beta, first.id)).map((log) => log.args.amount)).toEqual([required]);
    expect(await legSentLogs(h, nextChain, creditedId)).toHaveLength(1);
    expect((await legReceivedLogs(h, h.alpha, creditedId)).map((log) => log.args.amount)).toEqual([required]);
    expect(await h.inboundStatus(h.alpha, creditedId)).toBe(STATUS.executed);
    // Supply conserved: the refunded amount is back on beta, the credited one moved from its
    // source to the account on alpha, and nothing else moved.
    for (const chain of h.manifest.chains) {
      const moved = (chain.chainId === h.alpha.chainId ? required : 0n) - (chain.chainId === nextChain.chainId ? required : 0n);
      expect([chain.key, await collateralOf(h, chain, account)]).toEqual([chain.key, (before.get(chain.chainId) ?? 0n) + moved]);
    }
    expect(await h.totalSupply()).toBe(supplyBefore);
    expect(await h.inFlightAmount()).toBe(0n);

    // Reconciliation agrees: nothing left to refund, nothing open about either leg.
    const reconciled = await reconcile({ context, tokens: tokens(), slaSeconds: 3_600 });
    expect(reconciled.refunded).toEqual([]);
    expect(reconciled.findings.filter((f) => [first.id, creditedId].includes((f.legId ?? f.detail?.legId) as Hash))).toEqual([]);
    expect(reconciled.supply).toEqual({ onChains: reconciled.supply.issued, inFlight: 0n, issued: reconciled.supply.issued });
  });
});
