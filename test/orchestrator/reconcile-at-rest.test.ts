/**
 * Reconciliation at rest, on the real devnet with the real ledger: every leg the chains bear out
 * is recorded as reconciled, so the auditors' report of unreconciled legs is empty once nothing
 * moves: a credited leg, a refunded one, a local liquidation, and legs that failed before their
 * source burned anything (a send the vault refused, a liquidation the engine refused), each of
 * those only once its chain is final (the ledger's confirmations) past the block it failed at,
 * with no `LegSent` for it. A leg the ledger failed before sending but the vault sent anyway is
 * never confirmed: it is a finding, and the report lists it.
 */
import { isFinal } from '../../relayer/orchestrator/job-processor.js';
import { and, eq } from 'drizzle-orm';
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anvilControl } from '../../chains/devnet/control.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { sendLeg } from '../../chains/protocol/legs.js';
import { price, usd } from '../../chains/protocol/units.js';
import { getLeg, readReport, reconciledLegs, registerChains, transitionLeg, type LedgerHandle, type PlannedLeg } from '../../db/index.js';
import { deliverLegStep } from '../../relayer/execution/deliver-leg.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../relayer/execution/execution-context.js';
import { sendLegStep, vaultLegOf } from '../../relayer/execution/send-leg.js';
import { reconcile } from '../../relayer/reconcile/reconcile.js';
import { ETH, ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { collateralLeg, createPlan } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';

let h: ProtocolHarness;
let ledger: LedgerHandle;
let cleanupLedger: () => Promise<void>;
let context: ExecutionContext;
/** Beta is final only 2 blocks deep; alpha and gamma at once. */
const BETA_CONFIRMATIONS = 2;

beforeAll(async () => {
  h = await ProtocolHarness.start();
  ({ ledger, cleanup: cleanupLedger } = await createMigratedLedger());
  await registerChains(
    ledger.db,
    h.manifest.chains.map((c) => ({ chainId: c.chainId, key: c.key, lzEid: c.lzEid, wormholeChainId: c.wormholeChainId, confirmations: c.key === 'beta' ? BETA_CONFIRMATIONS : 0 })),
  );
  context = devnetExecutionContext({ manifest: h.manifest, transports: h.transports, ledger: ledger.db, actor: 'test-node' });
  await h.seed({
    accounts: [
      { trader: 0, chain: 'alpha', deposit: '1000' },
      { trader: 0, chain: 'beta', deposit: '5000', crossChainConsent: true },
      { trader: 0, chain: 'gamma', deposit: '5000', crossChainConsent: true },
      // No consent on beta: the vault refuses to send its surplus.
      { trader: 1, chain: 'alpha', deposit: '1000' },
      { trader: 1, chain: 'beta', deposit: '5000' },
      // 3 ETH long on 1000: below maintenance once ETH is at 2800.
      { trader: 2, chain: 'alpha', deposit: '1000', positions: [{ market: 'ETH-USD', size: '3' }] },
    ],
  });
});

afterAll(async () => {
  await cleanupLedger?.();
  await h?.stop();
});

const tokens = () => new Map(h.manifest.chains.map((chain) => [chain.chainId, chain.contracts.collateralToken]));
const run = () => reconcile({ context, tokens: tokens(), slaSeconds: 3_600 });
const unreconciled = async () => new Map((await readReport(ledger.db, 'unreconciled-legs')).rows.map((row) => [row.leg_id as string, row.reason as string]));
const confirmedBy = async (runId: bigint, legId: Hash) => (await ledger.db.select().from(reconciledLegs).where(and(eq(reconciledLegs.runId, runId), eq(reconciledLegs.legId, legId)))).length === 1;
const inAnHour = async () => new Date(Number(await h.chainTime(h.alpha)) * 1_000 + 3_600_000);

async function planned(leg: PlannedLeg): Promise<Hash> {
  const { legIds } = await createPlan(ledger.db, { chainId: h.alpha.chainId, account: leg.account, legs: [leg] });
  return legIds[0] as Hash;
}

const localLeg = async (account: `0x${string}`, positionSize: bigint): Promise<Hash> =>
  planned({ kind: 'local', sourceChainId: h.alpha.chainId, destinationChainId: h.alpha.chainId, transport: null, account, marketId: ETH, amount: usd('100'), relief: usd('100'), positionSize, deadline: await inAnHour() });

describe('reconciliation at rest', () => {
  it('confirms credited, refunded, local and never-sent legs, the never-sent once final, and the report is empty', async () => {
    const trader = traderAddress(0);
    // Credited: beta -> alpha over LayerZero.
    const credited = await planned(collateralLeg(usd('20'), { sourceChainId: h.beta.chainId, destinationChainId: h.alpha.chainId, transport: 'layerzero', account: trader, deadline: await inAnHour() }));
    await sendLegStep(context, credited);
    await deliverLegStep(context, credited);

    // Refused at sending: trader 1 never consented on beta. Nothing burned.
    const refused = await planned(collateralLeg(usd('20'), { sourceChainId: h.beta.chainId, destinationChainId: h.alpha.chainId, transport: 'wormhole', account: traderAddress(1), deadline: await inAnHour() }));
    await expect(sendLegStep(context, refused)).rejects.toSatisfy(isFinal);
    expect(await getLeg(ledger.db, refused)).toMatchObject({ status: 'failed', failedFrom: 'submitted' });

    // Local: trader 2 liquidated in part at home; trader 0 (no position) refused by the engine.
    await pushPrice({ signer: h.deployerOn(h.alpha), feed: h.feedOf(h.alpha, ETH), price: price('2800') });
    const liquidated = await localLeg(traderAddress(2), (3n * 10n ** 18n) / 10n);
    await sendLegStep(context, liquidated);
    expect((await getLeg(ledger.db, liquidated))?.status).toBe('credited');
    const notLiquidatable = await localLeg(trader, 10n ** 17n);
    await expect(sendLegStep(context, notLiquidatable)).rejects.toSatisfy(isFinal);
    expect(await getLeg(ledger.db, notLiquidatable)).toMatchObject({ status: 'failed', failedFrom: 'submitted' });

    // Refunded: gamma -> alpha, expired on alpha before it was delivered.
    const alpha = anvilControl(h.endpointOf(h.alpha));
    const deadline = (await h.chainTime(h.alpha)) + 60n;
    const refunded = await planned(collateralLeg(usd('20'), { sourceChainId: h.gamma.chainId, destinationChainId: h.alpha.chainId, transport: 'wormhole', account: trader, deadline: new Date(Number(deadline) * 1_000) }));
    await sendLegStep(context, refunded);
    await alpha.setNextBlockTimestamp({ timestamp: deadline + 1n });
    await alpha.mine({ blocks: 1 });
    await expect(deliverLegStep(context, refunded)).rejects.toSatisfy(isFinal);

    const first = await run();
    // The one finding: the expired leg, owed its refund, refunded by this run.
    expect(first.findings.map((finding) => [finding.kind, finding.legId, finding.detail?.action])).toEqual([['stuck_leg', refunded, 'refund']]);
    expect(first.refunded).toEqual([refunded]);
    for (const legId of [credited, liquidated, notLiquidatable]) expect(await confirmedBy(first.runId, legId)).toBe(true);
    // Beta is not final past the refused send yet, and the refund came in this very run.
    expect(await confirmedBy(first.runId, refused)).toBe(false);
    expect(await unreconciled()).toEqual(new Map([[refused, 'awaiting_reconciliation'], [refunded, 'open_finding']]));

    await anvilControl(h.endpointOf(h.beta)).mine({ blocks: BETA_CONFIRMATIONS });
    const second = await run();
    expect(second.findings).toEqual([]);
    for (const legId of [credited, refused, liquidated, notLiquidatable, refunded]) expect(await confirmedBy(second.runId, legId)).toBe(true);
    expect(await unreconciled()).toEqual(new Map());
  });

  it('never confirms a leg the ledger failed before sending that its source vault sent anyway', async () => {
    const legId = await planned(collateralLeg(usd('15'), { sourceChainId: h.gamma.chainId, destinationChainId: h.alpha.chainId, transport: 'wormhole', account: traderAddress(0), deadline: await inAnHour() }));
    const head = await h.relayerOn(h.gamma).public.getBlockNumber();
    await transitionLeg(ledger.db, { legId, from: 'planned', to: 'submitted', actor: 'test', evidence: { chainId: h.gamma.chainId, blockNumber: head } });
    const leg = await getLeg(ledger.db, legId);
    if (!leg) throw new Error('leg not recorded');
    // Sent on chain behind the ledger's back, then failed in the ledger as if nothing had gone out.
    await sendLeg({ signer: h.relayerOn(h.gamma), transport: h.transports.wormhole, from: h.gamma, to: h.alpha, leg: vaultLegOf(leg) });
    await transitionLeg(ledger.db, { legId, from: 'submitted', to: 'failed', actor: 'test', error: 'refused (as the ledger has it)', evidence: { chainId: h.gamma.chainId, blockNumber: head } });

    const result = await run();
    expect(result.findings.filter((finding) => finding.legId === legId).map((finding) => [finding.kind, finding.severity])).toEqual([['ledger_chain_mismatch', 'critical']]);
    expect(await confirmedBy(result.runId, legId)).toBe(false);
    expect((await unreconciled()).get(legId)).toBe('open_finding');
  });
});
