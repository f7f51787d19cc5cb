/**
 * Reconciliation against a node at work, on a 3-chain devnet with the real ledger: a run that
 * starts while a leg is `submitted` (its `LegSent` already mined, the ledger not yet told)
 * knows the leg, so it raises no `unknown_message`; and a finding a later run disproves is
 * resolved by that run, while one it finds again stays open.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { anvilControl } from '../../chains/devnet/control.js';
import type { TransportKind } from '../../chains/messaging/transport.js';
import { usd } from '../../chains/protocol/units.js';
import { getLeg, listLegEvents, reconcileCheckpoints, reconciliationFindings, vaultLogs, reconciliationRuns, registerChains, type LedgerHandle } from '../../db/index.js';
import { deliverLegStep } from '../../relayer/execution/deliver-leg.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../relayer/execution/execution-context.js';
import { sendLegStep } from '../../relayer/execution/send-leg.js';
import { reconcile, type ReconcileResult } from '../../relayer/reconcile/reconcile.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { collateralLeg, createPlan } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';

let h: ProtocolHarness;
let ledger: LedgerHandle;
let cleanupLedger: () => Promise<void>;
let context: ExecutionContext;
const account = traderAddress(0);
const SLA_SECONDS = 600;

beforeAll(async () => {
  h = await ProtocolHarness.start();
  ({ ledger, cleanup: cleanupLedger } = await createMigratedLedger());
  await registerChains(ledger.db, h.manifest.chains.map((c) => ({ chainId: c.chainId, key: c.key, lzEid: c.lzEid, wormholeChainId: c.wormholeChainId, confirmations: 0 })));
  context = devnetExecutionContext({ manifest: h.manifest, transports: h.transports, ledger: ledger.db, actor: 'test-node' });
  await h.seed({
    accounts: [
      { trader: 0, chain: 'alpha', deposit: '1000' },
      { trader: 0, chain: 'beta', deposit: '5000', crossChainConsent: true },
    ],
  });
});

afterAll(async () => {
  await cleanupLedger?.();
  await h?.stop();
});

const runReconcile = (options: { redriveStuck?: boolean } = {}) => reconcile({ context, tokens: new Map(h.manifest.chains.map((c) => [c.chainId, c.contracts.collateralToken])), slaSeconds: SLA_SECONDS, ...options });
/** Every finding of a run that names the leg, as a leg or in its detail (a leg the ledger does not know). */
const aboutLeg = (result: ReconcileResult, legId: Hash) => result.findings.filter((f) => f.legId === legId || f.detail?.legId === legId);
const runStatus = async (runId: bigint) => (await ledger.db.select().from(reconciliationRuns).where(eq(reconciliationRuns.id, runId)))[0]?.status;

/** A collateral leg beta -> alpha, planned in the ledger. */
async function plannedLeg(transport: TransportKind): Promise<Hash> {
  const deadline = new Date(Number((await h.chainTime(h.beta)) + 3_600n) * 1_000);
  const { legIds } = await createPlan(ledger.db, {
    chainId: h.alpha.chainId,
    account,
    legs: [collateralLeg(usd('10'), { sourceChainId: h.beta.chainId, destinationChainId: h.alpha.chainId, transport, account, deadline })],
  });
  const [legId] = legIds;
  if (!legId) throw new Error('no leg planned');
  return legId;
}

/** A leg sent and left undelivered while beta's clock moves past the SLA (its deadline still ahead): stuck. */
async function sentPastSla(transport: TransportKind): Promise<Hash> {
  const legId = await plannedLeg(transport);
  await sendLegStep(context, legId);
  const beta = anvilControl(h.endpointOf(h.beta));
  await beta.increaseTime({ seconds: SLA_SECONDS * 2 });
  await beta.mine({ blocks: 1 });
  return legId;
}

describe('a run while a leg is submitted and its LegSent is already on chain', () => {
  it('knows the leg: no unknown_message, and the run passes', async () => {
    const legId = await plannedLeg('wormhole');
    let during: ReconcileResult | undefined;
    // The worst moment: the source transaction is mined, the ledger still says `submitted`.
    const racing: ExecutionContext = {
      ...context,
      onSourceMined: async () => {
        expect((await getLeg(ledger.db, legId))?.status).toBe('submitted');
        during = await runReconcile();
      },
    };
    await sendLegStep(racing, legId);
    if (!during) throw new Error('reconciliation did not run while the leg was submitted');
    expect(aboutLeg(during, legId)).toEqual([]);
    expect(during.findings).toEqual([]);
    expect(await runStatus(during.runId)).toBe('passed');

    await deliverLegStep(context, legId);
    const after = await runReconcile();
    expect(after.findings).toEqual([]);
    expect(after.reconciled).toBeGreaterThanOrEqual(1);
  });
});

describe('a finding', () => {
  it('found again by a later run stays open; disproved by a later run, it is resolved by that run', async () => {
    const legId = await sentPastSla('wormhole');
    const openFor = (id: Hash) => ledger.db.select().from(reconciliationFindings).where(and(eq(reconciliationFindings.legId, id), isNull(reconciliationFindings.resolvedAt)));

    // Flagged only (no re-drive): the leg stays stuck from one run to the next.
    const first = await runReconcile({ redriveStuck: false });
    expect(aboutLeg(first, legId).map((f) => [f.kind, f.detail?.action])).toEqual([['stuck_leg', 'retry delivery']]);
    const second = await runReconcile({ redriveStuck: false });
    expect(aboutLeg(second, legId).map((f) => f.kind)).toEqual(['stuck_leg']);
    // Still stuck: the first run's finding is not disproved, and both are open.
    expect((await openFor(legId)).map((f) => f.runId).sort()).toEqual([first.runId, second.runId]);

    await deliverLegStep(context, legId);
    const third = await runReconcile();
    expect(aboutLeg(third, legId)).toEqual([]);
    expect(await openFor(legId)).toEqual([]);
    const resolved = await ledger.db.select().from(reconciliationFindings).where(eq(reconciliationFindings.legId, legId)).orderBy(reconciliationFindings.runId);
    expect(resolved.map((f) => [f.runId, f.resolution])).toEqual([
      [first.runId, `not found again by reconciliation run ${third.runId}`],
      [second.runId, `not found again by reconciliation run ${third.runId}`],
    ]);
    expect(resolved.every((f) => f.resolvedAt !== null)).toBe(true);
    expect(await runStatus(third.runId)).toBe('passed');
  });
});

describe('a leg stuck past its SLA, before its deadline', () => {
  it('is delivered again by the run that finds it, recorded in the ledger, and never refunded', async () => {
    const legId = await sentPastSla('layerzero');
    expect((await getLeg(ledger.db, legId))?.status).toBe('sent');

    const first = await runReconcile();
    expect(aboutLeg(first, legId).map((f) => [f.kind, f.detail?.action, f.detail?.redrive])).toEqual([['stuck_leg', 'retry delivery', 'delivered again: now credited']]);
    expect(first.refunded).toEqual([]);
    expect((await getLeg(ledger.db, legId))?.status).toBe('credited');
    const events = await listLegEvents(ledger.db, legId);
    expect(events.map((e) => e.toStatus)).toEqual(['planned', 'submitted', 'sent', 'verified', 'delivered', 'credited']);

    const second = await runReconcile();
    expect(aboutLeg(second, legId)).toEqual([]);
    expect(second.refunded).toEqual([]);
  });
});

describe('incremental reconciliation', () => {
  /** The block ranges each chain's vault is asked for from now on (until restored). */
  const watchRanges = () => {
    const asked = new Map<number, [bigint | undefined, bigint | undefined][]>();
    const spies = [...context.chains.values()].map((chain) => {
      const client = chain.signer.public;
      const getLogs = client.getLogs.bind(client);
      return vi.spyOn(client, 'getLogs').mockImplementation(((args: { fromBlock?: bigint; toBlock?: bigint }) => {
        asked.set(chain.chainId, [...(asked.get(chain.chainId) ?? []), [args.fromBlock, args.toBlock]]);
        return getLogs(args as Parameters<typeof getLogs>[0]);
      }) as typeof client.getLogs);
    });
    return { asked, restore: () => spies.forEach((spy) => spy.mockRestore()) };
  };
  const checkpoints = async () => new Map((await ledger.db.select().from(reconcileCheckpoints)).map((row) => [row.chainId, row.blockNumber]));
  const summary = (result: ReconcileResult) => result.findings.map((f) => [f.kind, f.legId ?? null, f.detail?.action ?? null]).sort();

  it('a run reads each vault only after its checkpoint, and finds what a read from block 0 finds', async () => {
    await runReconcile();
    const legId = await sentPastSla('wormhole');
    const before = await checkpoints();
    const heads = new Map(await Promise.all([...context.chains.values()].map(async (chain) => [chain.chainId, await chain.signer.public.getBlockNumber({ cacheTime: 0 })] as const)));
    const ranges = watchRanges();
    const incremental = await runReconcile({ redriveStuck: false }).finally(ranges.restore);
    // This file's chains are registered with 0 confirmations: the checkpoint is the last head.
    // Only beta mined since (the send): a vault with no new block is not asked at all.
    const expected = [...before].filter(([chainId, block]) => (heads.get(chainId) ?? 0n) > block).map(([chainId, block]) => [chainId, [[block + 1n, heads.get(chainId)]]] as const);
    expect(expected.map(([chainId]) => chainId)).toEqual([h.beta.chainId]);
    expect(new Map([...ranges.asked].map(([chainId, asked]) => [chainId, asked.filter(([from]) => from !== undefined)]))).toEqual(new Map(expected));
    expect(aboutLeg(incremental, legId).map((f) => [f.kind, f.detail?.action])).toEqual([['stuck_leg', 'retry delivery']]);

    await ledger.db.delete(vaultLogs);
    await ledger.db.delete(reconcileCheckpoints);
    const fullRanges = watchRanges();
    const full = await runReconcile({ redriveStuck: false }).finally(fullRanges.restore);
    expect([...fullRanges.asked.values()].map((asked) => asked.filter(([from]) => from !== undefined).map(([from]) => from))).toEqual([...context.chains.keys()].map(() => [0n]));
    expect(summary(full)).toEqual(summary(incremental));
    expect(full.supply).toEqual(incremental.supply);
    await deliverLegStep(context, legId);
    expect((await runReconcile()).findings).toEqual([]);
  });
});
