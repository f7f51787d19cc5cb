/**
 * What the devnet settlement suites share: the ledger's chains, shortfall reports on alpha,
 * hand-made worlds (the engine's own view of the account, hand-made sources), a chain's gas
 * price raised for a while, chain reads of a leg, and waiting for an episode's settlements.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import { marginEngineAbi } from '../../../chains/contracts/out/MarginEngine.js';
import { vaultAbi } from '../../../chains/contracts/out/Vault.js';
import { anvilControl } from '../../../chains/devnet/control.js';
import type { ManifestChain } from '../../../chains/devnet/manifest.js';
import { usd } from '../../../chains/protocol/units.js';
import { legs, registerChains, settlements, type LedgerDatabase, type Transport } from '../../../db/index.js';
import type { AccountWorld, WorldSource } from '../../../relayer/orchestrator/chain-world.js';
import type { Orchestrator } from '../../../relayer/orchestrator/orchestrator.js';
import type { Queues } from '../../../relayer/orchestrator/queues.js';
import type { ShortfallReport } from '../../../relayer/orchestrator/shortfall-report.js';
import type { PolicySource } from '../../../relayer/policy/index.js';
import type { ProtocolHarness } from '../../contracts/protocol-harness.js';
import { until } from '../../watcher/support.js';

/** Every devnet chain in the ledger, with no confirmations to wait for (anvil mines at once). */
export function registerDevnetChains(ledger: LedgerDatabase, h: ProtocolHarness) {
  return registerChains(
    ledger,
    h.manifest.chains.map((c) => ({ chainId: c.chainId, key: c.key, lzEid: c.lzEid, wormholeChainId: c.wormholeChainId, confirmations: 0 })),
  );
}

export const collateralOf = (h: ProtocolHarness, chain: ManifestChain, account: Address) =>
  h.relayerOn(chain).public.readContract({ address: chain.contracts.marginEngine, abi: marginEngineAbi, functionName: 'collateralOf', args: [account] });

/** A hand-made source: up to 3000 USD of the account's collateral on `chain`, over `transport`, at `fixedCostUsd` a leg. */
export const collateralSource = (chain: ManifestChain, transport: Transport, fixedCostUsd: number): PolicySource => ({
  kind: 'collateral',
  chainId: chain.chainId,
  key: chain.key,
  capacity: usd('3000'),
  routes: [{ transport, fixedCostUsd, latencySeconds: 5 }],
});

/** The engine's own view of `account` on `chain`, as the decision core takes it. */
export async function engineHealth(h: ProtocolHarness, chain: ManifestChain, account: Address): Promise<AccountWorld['health']> {
  const view = await h.account(chain, account);
  return { equity: view.equity, maintenance: view.maintenanceMargin, initial: view.initialMargin };
}

/**
 * A world whose sources are hand-made and whose account health is read from the engine: for
 * accounts with no position on their chain (there is nothing to liquidate or take over).
 */
export function handMadeWorld(h: ProtocolHarness, sources: readonly PolicySource[]): WorldSource {
  return {
    async worldFor(request) {
      const chain = h.manifest.chains.find((c) => c.chainId === request.chainId);
      if (!chain) throw new Error(`chain ${request.chainId} is not on the devnet`);
      const view = await h.account(chain, request.account);
      if (view.positions.length > 0) throw new Error(`a hand-made world is for accounts with no position: ${request.account} has ${view.positions.length}`);
      return { health: await engineHealth(h, chain, request.account), positions: [], sources, homeGasUsd: 0.01, markets: new Map(), observed: new Map() };
    },
  };
}

/** The base fee `chain`'s next block charges: its `eth_gasPrice` is this plus anvil's suggested tip. */
export async function nextBaseFee(h: ProtocolHarness, chain: ManifestChain): Promise<bigint> {
  const { baseFeePerGas } = await h.relayerOn(chain).public.getBlock({ blockTag: 'pending' });
  if (baseFeePerGas === null) throw new Error(`${chain.key} has no base fee`);
  return baseFeePerGas;
}

/**
 * Runs `work` while `chain`'s next block charges `baseFeePerGas` (gas there is dearer, and so
 * is every leg sent from it), then puts back the base fee the chain had, whatever `work` did.
 */
export async function withBaseFee<T>(h: ProtocolHarness, chain: ManifestChain, baseFeePerGas: bigint, work: () => Promise<T>): Promise<T> {
  const control = anvilControl(h.endpointOf(chain));
  const usual = await nextBaseFee(h, chain);
  await control.setNextBlockBaseFeePerGas({ baseFeePerGas });
  try {
    return await work();
  } finally {
    await control.setNextBlockBaseFeePerGas({ baseFeePerGas: usual });
  }
}

/**
 * What restores the account's equity to its target, 1.2 times its maintenance margin, as the
 * watcher computes it with m_eff = m (the node's default target; the markets of these tests'
 * accounts all have m = 0.05, the m_eff reports carry): 0 when it is there.
 */
export function targetGap(health: AccountWorld['health']): bigint {
  const gap = (health.maintenance * 6n + 4n) / 5n - health.equity;
  return gap > 0n ? gap : 0n;
}

let episode = 0n;
/**
 * A maintenance breach of `account` on alpha that needs `required` USD (by default what the
 * watcher would compute, `targetGap`), as a watcher reports it now: with the equity and
 * maintenance the engine shows (the core takes what moved since from the engine); each call a
 * new episode.
 */
export async function breachOnAlpha(h: ProtocolHarness, params: { account: Address; required?: string }): Promise<ShortfallReport> {
  episode += 1n;
  const health = await engineHealth(h, h.alpha, params.account);
  return {
    chainId: h.alpha.chainId,
    engine: h.alpha.contracts.marginEngine,
    account: params.account,
    episode: String(episode),
    reason: 'breach',
    equity: String(health.equity),
    maintenance: String(health.maintenance),
    requiredAmount: String(params.required === undefined ? targetGap(health) : usd(params.required)),
    mEff: 0.05,
    detectedBlock: '1',
    detectedAt: new Date().toISOString(),
  };
}

/** The legs the ledger recorded for `shortfallId`: every revision's, in revision then leg order. */
export async function legsOfShortfall(ledger: LedgerDatabase, shortfallId: Hash) {
  const revisions = await ledger.select().from(settlements).where(eq(settlements.shortfallId, shortfallId)).orderBy(asc(settlements.revision));
  if (revisions.length === 0) return [];
  const recorded = await ledger.select().from(legs).where(inArray(legs.settlementId, revisions.map((r) => r.id)));
  const order = new Map(revisions.map((r) => [r.id, r.revision]));
  return recorded.sort((a, b) => (order.get(a.settlementId) ?? 0) - (order.get(b.settlementId) ?? 0) || a.legIndex - b.legIndex);
}

/** The `LegSent` events of a leg on its source vault: one per send that burned. */
export const legSentLogs = (h: ProtocolHarness, chain: ManifestChain, legId: Hash) =>
  h.relayerOn(chain).public.getContractEvents({ address: chain.contracts.vault, abi: vaultAbi, eventName: 'LegSent', args: { legId }, fromBlock: 0n });

/** The `LegReceived` events of a leg on its destination vault: one per credit. */
export const legReceivedLogs = (h: ProtocolHarness, chain: ManifestChain, legId: Hash) =>
  h.relayerOn(chain).public.getContractEvents({ address: chain.contracts.vault, abi: vaultAbi, eventName: 'LegReceived', args: { legId }, fromBlock: 0n });

/**
 * Waits until a settlement's `settle` job completes (every leg credited). A failed leg or
 * delivery job ends the wait with its reasons, and so does `check` throwing (a worker gone).
 */
export function settleCompleted(queues: Queues, params: { check?: () => void; limitMs?: number } = {}): Promise<void> {
  return until(
    'a settle job completes',
    async () => {
      const failed = [...(await queues.byName.legs.getFailed()), ...(await queues.byName.deliveries.getFailed())];
      if (failed.length > 0) throw new Error(failed.map((job) => job.failedReason).join('; '));
      params.check?.();
      return (await queues.byName.legs.getJobs(['completed'])).some((job) => job.name === 'settle');
    },
    params.limitMs,
  );
}

/** Job states in which a job is still to run (or is running). */
const PENDING = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/**
 * Waits until the closed loop is at rest: some settlement's `settle` job completed, and no leg,
 * delivery or plan job (but the scheduled review's next run) is left to run. A settlement that
 * ends asks for the next decision, and a decision that plans adds its flow, before its job
 * completes: so nothing pending means every decision was taken and every revision ran. A failed
 * leg or delivery job ends the wait with its reasons, and so does `check` throwing.
 */
export function episodesAtRest(queues: Queues, params: { check?: () => void; limitMs?: number } = {}): Promise<void> {
  return until(
    'every decision is taken and every settlement completed',
    async () => {
      const failed = [...(await queues.byName.legs.getFailed()), ...(await queues.byName.deliveries.getFailed()), ...(await queues.byName.plans.getFailed())];
      if (failed.length > 0) throw new Error(failed.map((job) => job.failedReason).join('; '));
      params.check?.();
      if (!(await queues.byName.legs.getJobs(['completed'])).some((job) => job.name === 'settle')) return false;
      const pending = [...(await queues.byName.legs.getJobs([...PENDING])), ...(await queues.byName.deliveries.getJobs([...PENDING]))];
      // The review's next run waits, delayed, for as long as the orchestrator runs.
      const plans = [...(await queues.byName.plans.getJobs(['waiting', 'active', 'prioritized'])), ...(await queues.byName.plans.getJobs(['delayed'])).filter((job) => job.name !== 'review')];
      return pending.length === 0 && plans.length === 0;
    },
    params.limitMs,
  );
}

/** Closes the orchestrator (its workers drain) and removes its queues from Redis. */
export async function closeAndObliterate(orchestrator: Orchestrator): Promise<void> {
  await orchestrator.close();
  await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));
}
