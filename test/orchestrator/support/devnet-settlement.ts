/**
 * What the devnet settlement suites share: the ledger's chains, shortfall reports on alpha,
 * hand-made sourcing options, a chain's gas price raised for a while, chain reads of a leg,
 * and waiting for a settlement's flow.
 */
import { eq } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import { marginEngineAbi } from '../../../chains/contracts/out/MarginEngine.js';
import { vaultAbi } from '../../../chains/contracts/out/Vault.js';
import { anvilControl } from '../../../chains/devnet/control.js';
import type { ManifestChain } from '../../../chains/devnet/manifest.js';
import { usd } from '../../../chains/protocol/units.js';
import { legs, registerChains, settlements, type LedgerDatabase } from '../../../db/index.js';
import type { Orchestrator } from '../../../relayer/orchestrator/orchestrator.js';
import type { Queues } from '../../../relayer/orchestrator/queues.js';
import type { ShortfallReport } from '../../../relayer/orchestrator/shortfall-report.js';
import type { SourcingOption } from '../../../relayer/orchestrator/sourcing-option.js';
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

/** A hand-made option: up to 3000 USD of collateral from `chain`, at `rate` per USD. */
export const collateralOption = (chain: ManifestChain, transport: 'layerzero' | 'wormhole', rate: number): SourcingOption => ({
  kind: 'collateral',
  sourceChainId: chain.chainId,
  sourceKey: chain.key,
  transport,
  capacity: usd('3000'),
  fixedCostUsd: 0.5,
  latencySeconds: 5,
  cost: { type: 'linear', rate },
});

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

let episode = 0n;
/** A maintenance breach of `account` on alpha that needs `required` USD; each call a new episode. */
export function breachOnAlpha(h: ProtocolHarness, params: { account: Address; required: string }): ShortfallReport {
  episode += 1n;
  return {
    chainId: h.alpha.chainId,
    engine: h.alpha.contracts.marginEngine,
    account: params.account,
    episode: String(episode),
    reason: 'breach',
    equity: String(usd('900')),
    maintenance: String(usd('1000')),
    requiredAmount: String(usd(params.required)),
    mEff: 0.05,
    detectedBlock: '1',
    detectedAt: new Date().toISOString(),
  };
}

/** The legs the ledger recorded for the settlement of `shortfallId`. */
export async function legsOfShortfall(ledger: LedgerDatabase, shortfallId: Hash) {
  const [settlement] = await ledger.select().from(settlements).where(eq(settlements.shortfallId, shortfallId));
  return ledger.select().from(legs).where(eq(legs.settlementId, settlement?.id ?? '0x'));
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

/** Closes the orchestrator (its workers drain) and removes its queues from Redis. */
export async function closeAndObliterate(orchestrator: Orchestrator): Promise<void> {
  await orchestrator.close();
  await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));
}
