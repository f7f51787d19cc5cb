/**
 * Legs through the node's own execution on a devnet, for the faulty-RPC bench and its test: each
 * leg is recorded in the ledger as its own settlement (of an episode already closed, so nothing
 * is planned after it), its flow is added by the orchestrator's `plans` worker, and its `send`
 * and `deliver` jobs run on the `legs` and `deliveries` workers with BullMQ's retries, through
 * the signers and transports of `manifest` (whose RPC URLs may put a faulty proxy in front of
 * a chain). Waits until every leg has ended, credited or failed.
 */
import { randomBytes } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import type { Redis } from 'ioredis';
import type { Manifest } from '../../chains/devnet/manifest.js';
import { devnetTransports } from '../../chains/devnet/transports.js';
import type { TransportKind } from '../../chains/messaging/transport.js';
import { closeShortfall, legs, recordSettlement, recordShortfall, type LedgerDatabase, type Leg, type PlannedLeg } from '../../db/index.js';
import { RelayerError } from '../errors.js';
import { ChainLegExecutor } from '../execution/chain-leg-executor.js';
import { devnetExecutionContext } from '../execution/devnet-context.js';
import type { ExecutionContext } from '../execution/execution-context.js';
import { defaultPolicySettings, fixedWorld } from '../orchestrator/fixed-world.js';
import { startOrchestrator } from '../orchestrator/orchestrator.js';

export interface LegRoute {
  readonly from: string;
  readonly to: string;
  readonly transport: TransportKind;
}

/** Every route from and to `chain`, over both transports. */
export function routesThrough(manifest: Manifest, chain: string): LegRoute[] {
  const others = manifest.chains.filter((c) => c.key !== chain).map((c) => c.key);
  const pairs = others.flatMap((other) => [
    { from: other, to: chain },
    { from: chain, to: other },
  ]);
  return pairs.flatMap((pair) => (['layerzero', 'wormhole'] as const).map((transport) => ({ ...pair, transport })));
}

/** `count` collateral legs of `amount` base units, round-robin over the routes and the accounts. */
export function collateralLegs(params: { manifest: Manifest; routes: readonly LegRoute[]; accounts: readonly Address[]; count: number; amount: bigint; deadline: Date }): PlannedLeg[] {
  const chainId = (key: string) => {
    const chain = params.manifest.chains.find((c) => c.key === key);
    if (!chain) throw new RelayerError(`no chain '${key}' on the devnet`);
    return chain.chainId;
  };
  return Array.from({ length: params.count }, (_, i) => {
    const route = params.routes[i % params.routes.length] as LegRoute;
    return {
      kind: 'collateral',
      sourceChainId: chainId(route.from),
      destinationChainId: chainId(route.to),
      transport: route.transport,
      account: params.accounts[i % params.accounts.length] as Address,
      amount: params.amount,
      relief: params.amount,
      deadline: params.deadline,
    };
  });
}

export interface LegRun {
  /** From asking for the flows to the last leg ending. */
  readonly seconds: number;
  /** Every leg as the ledger has it at the end. */
  readonly legs: readonly Leg[];
  /** The execution context the legs ran with (its signers go through `manifest`'s RPC URLs). */
  readonly context: ExecutionContext;
}

const ENDED = new Set(['credited', 'failed', 'refunded']);
const ENGINE: Address = '0x00000000000000000000000000000000000e0001';

export async function runLegs(params: {
  manifest: Manifest;
  ledger: LedgerDatabase;
  connection: Redis;
  legs: readonly PlannedLeg[];
  /** Worker concurrency of `legs` and `deliveries` (the node's default: 16). */
  concurrency?: number;
  limitMs?: number;
}): Promise<LegRun> {
  const context = devnetExecutionContext({ manifest: params.manifest, transports: devnetTransports({ manifest: params.manifest }), ledger: params.ledger, actor: 'leg-run' });
  const run = randomBytes(4).toString('hex');
  const shortfallIds: Hash[] = [];
  const legIds: Hash[] = [];
  for (const [i, leg] of params.legs.entries()) {
    const { shortfall } = await recordShortfall(params.ledger, {
      chainId: leg.destinationChainId,
      engine: ENGINE,
      account: leg.account,
      episode: BigInt(`0x${run}`) * 100_000n + BigInt(i),
      reason: 'breach',
      equity: 0n,
      maintenance: leg.amount,
      requiredAmount: leg.amount,
      detectedBlock: 0n,
      detectedAt: new Date(),
    });
    const settlement = await recordSettlement(params.ledger, { shortfallId: shortfall.id, revision: 0, requiredAmount: leg.amount, coveredAmount: leg.amount, plannedCostUsd: '0', plan: { run }, legs: [leg] });
    await closeShortfall(params.ledger, { shortfallId: shortfall.id, closedAt: new Date(), badDebt: 0n });
    shortfallIds.push(shortfall.id);
    legIds.push(...settlement.legIds);
  }

  const concurrency = params.concurrency ?? 16;
  const orchestrator = startOrchestrator({
    connection: params.connection,
    prefix: `leg-run-${run}`,
    ledger: params.ledger,
    worldSource: fixedWorld(),
    policy: defaultPolicySettings,
    chainKeys: new Map(params.manifest.chains.map((c) => [c.chainId, c.key])),
    legExecutor: new ChainLegExecutor(context),
    run: ['plans', 'legs', 'deliveries'],
    concurrency: { plans: 8, legs: concurrency, deliveries: concurrency },
  });
  try {
    const started = performance.now();
    await orchestrator.requestPlans(shortfallIds.map((shortfallId) => ({ shortfallId, cause: `leg-run-${run}` })));
    const limit = Date.now() + (params.limitMs ?? 300_000);
    for (;;) {
      const rows = await params.ledger.select().from(legs).where(inArray(legs.id, legIds));
      if (rows.every((leg) => ENDED.has(leg.status))) return { seconds: (performance.now() - started) / 1000, legs: rows, context };
      if (Date.now() > limit) {
        const open = rows.filter((leg) => !ENDED.has(leg.status));
        throw new RelayerError(`${open.length} of ${rows.length} legs had not ended within ${params.limitMs ?? 300_000} ms: ${open.slice(0, 5).map((leg) => `${leg.id} ${leg.status}`).join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    await orchestrator.close();
    await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));
  }
}
