/**
 * Deliveries a destination vault refuses, on a 3-chain devnet with the real ledger: a forged
 * message leaves its leg deliverable (the attempt is recorded and flagged, the genuine message
 * credits it once); an expired leg fails with the vault's reason, is flagged and refunded once.
 */
import { isFinal } from '../../relayer/orchestrator/job-processor.js';
import { and, eq, sql } from 'drizzle-orm';
import { keccak256, pad, parseEventLogs, toHex, type Hash } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anvilControl } from '../../chains/devnet/control.js';
import { devnetTransports } from '../../chains/devnet/transports.js';
import type { TransportKind } from '../../chains/messaging/transport.js';
import { DevnetGuardianVaaSource, type VaaSource } from '../../chains/messaging/wormhole/vaa-source.js';
import { vaultCallAbi } from '../../chains/protocol/abi.js';
import { cancelLeg, legPayload } from '../../chains/protocol/legs.js';
import { usd } from '../../chains/protocol/units.js';
import { getLeg, listLegEvents, reconciledLegs, reconciliationFindings, registerChains, type LedgerHandle } from '../../db/index.js';
import { deliverLegStep } from '../../relayer/execution/deliver-leg.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../relayer/execution/execution-context.js';
import { sendLegStep, vaultLegOf } from '../../relayer/execution/send-leg.js';
import { reconcile, type ReconcileResult } from '../../relayer/reconcile/reconcile.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { collateralLeg, createPlan } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';

let h: ProtocolHarness;
let ledger: LedgerHandle;
let cleanupLedger: () => Promise<void>;
let context: ExecutionContext;
/** Moves surplus from beta, where it consented, to alpha. */
const account = traderAddress(0);
const amount = usd('25');

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

const tokens = () => new Map(h.manifest.chains.map((chain) => [chain.chainId, chain.contracts.collateralToken]));
const runReconcile = () => reconcile({ context, tokens: tokens(), slaSeconds: 3_600 });
const findingsOf = (result: ReconcileResult, legId: Hash) => result.findings.filter((f) => f.legId === legId).map((f) => [f.kind, f.severity]).sort();
const collateralOn = async (key: 'alpha' | 'beta') => (await h.account(h.chain(key), account)).collateral;

/** A collateral leg beta -> alpha planned in the ledger and sent, executable for `ttlSeconds` of chain time. */
async function sentLeg(transport: TransportKind, ttlSeconds: bigint): Promise<Hash> {
  const deadline = new Date(Number((await h.chainTime(h.beta)) + ttlSeconds) * 1_000);
  const { legIds } = await createPlan(ledger.db, {
    chainId: h.alpha.chainId,
    account,
    legs: [collateralLeg(amount, { sourceChainId: h.beta.chainId, destinationChainId: h.alpha.chainId, transport, account, deadline })],
  });
  const [legId] = legIds;
  if (!legId) throw new Error('no leg planned');
  await sendLegStep(context, legId);
  expect((await getLeg(ledger.db, legId))?.status).toBe('sent');
  return legId;
}

/** The node's context, delivering Wormhole messages with VAAs from `vaaSource`. */
function deliveringWith(vaaSource: VaaSource): ExecutionContext {
  return { ...context, transports: { ...context.transports, wormhole: devnetTransports({ manifest: h.manifest, vaaSource }).wormhole } };
}

async function legEventCount(chain: 'alpha' | 'beta', eventName: 'LegReceived' | 'LegRefunded', legId: Hash): Promise<number> {
  const target = h.chain(chain);
  const logs = await h.relayerOn(target).public.getLogs({ address: target.contracts.vault, fromBlock: 0n, toBlock: 'latest' });
  return parseEventLogs({ abi: vaultCallAbi, eventName, logs }).filter((event) => event.args.legId === legId).length;
}

describe('a forged delivery', () => {
  it('over Wormhole is refused without failing the leg, recorded and flagged; the genuine VAA then credits it once', async () => {
    const legId = await sentLeg('wormhole', 3_600n);
    const before = await h.snapshot(h.alpha, account);
    const guardian = new DevnetGuardianVaaSource();
    const forgers: [string, VaaSource][] = [
      ['InvalidVaa', new DevnetGuardianVaaSource({ guardianKeys: [generatePrivateKey()] })],
      // Signed by the guardian, but naming an emitter that is not beta's vault.
      ['UnknownEmitter', { signedVaa: (message) => guardian.signedVaa({ ...message, emitter: pad(h.beta.contracts.messageProbe, { size: 32 }) }) }],
    ];
    for (const [index, [errorName, vaaSource]] of forgers.entries()) {
      const attempt = deliverLegStep(deliveringWith(vaaSource), legId);
      await expect(attempt).rejects.toMatchObject({ retryable: true });
      await expect(attempt).rejects.not.toSatisfy(isFinal);
      const leg = await getLeg(ledger.db, legId);
      expect(leg).toMatchObject({ status: 'sent', attempts: index + 1 });
      expect(leg?.lastError).toMatch(new RegExp(`^destination refused: .*reverted with ${errorName}\\(`));
    }
    expect(await h.snapshot(h.alpha, account)).toEqual(before);

    const flagged = await runReconcile();
    expect(findingsOf(flagged, legId)).toEqual([['refused_delivery', 'warning']]);
    const recorded = await ledger.db.select().from(reconciliationFindings).where(and(eq(reconciliationFindings.runId, flagged.runId), eq(reconciliationFindings.legId, legId)));
    expect(recorded.map((row) => [row.kind, row.messageId])).toEqual([['refused_delivery', (await getLeg(ledger.db, legId))?.messageId]]);
    // The auditors' report lists the leg under its open finding.
    const report = await ledger.db.execute<{ reason: string }>(sql`select reason from report_unreconciled_legs where leg_id = ${legId}`);
    expect(report.rows).toEqual([{ reason: 'open_finding' }]);

    await deliverLegStep(context, legId);
    expect((await getLeg(ledger.db, legId))?.status).toBe('credited');
    expect(await legEventCount('alpha', 'LegReceived', legId)).toBe(1);
    expect(await collateralOn('alpha')).toBe(before.account.collateral + amount);
    const clean = await runReconcile();
    expect(findingsOf(clean, legId)).toEqual([]);
    const confirmed = await ledger.db.select().from(reconciledLegs).where(and(eq(reconciledLegs.runId, clean.runId), eq(reconciledLegs.legId, legId)));
    expect(confirmed).toHaveLength(1);
  });

  it('over LayerZero (a replayed leg, a leg never planned) is consumed with LegRejected, mints nothing and is flagged', async () => {
    const legId = await sentLeg('layerzero', 3_600n);
    await deliverLegStep(context, legId);
    const leg = await getLeg(ledger.db, legId);
    if (leg?.status !== 'credited') throw new Error(`leg is ${leg?.status}, not credited`);
    const before = { alpha: await h.snapshot(h.alpha, account), supply: await h.totalSupply() };

    const forged = [
      { errorName: 'LegAlreadyProcessed', payload: legPayload(vaultLegOf(leg)) },
      { errorName: 'LegExpired', payload: h.payloadFor({ legId: keccak256(toHex('never planned')), account, deadline: (await h.chainTime(h.alpha)) - 1n }) },
    ];
    const guids: Hash[] = [];
    for (const { payload } of forged) {
      const receipt = await h.lzReceiveFrom({ to: h.alpha, from: h.beta, payload });
      const events = parseEventLogs({ abi: vaultCallAbi, logs: receipt.logs });
      expect(events.map((event) => event.eventName)).toEqual(['LegRejected']);
      const [rejected] = parseEventLogs({ abi: vaultCallAbi, eventName: 'LegRejected', logs: receipt.logs });
      guids.push(rejected?.args.messageRef ?? '0x');
    }
    expect(await h.snapshot(h.alpha, account)).toEqual(before.alpha);
    expect(await h.totalSupply()).toBe(before.supply);

    const result = await runReconcile();
    const refused = result.findings.filter((f) => f.kind === 'refused_delivery' && guids.includes(f.messageId as Hash));
    expect(refused.map((f) => [f.messageId, f.legId, f.chainId, String(f.detail?.reason).split('(')[0]])).toEqual(
      forged.map(({ errorName }, index) => [guids[index], undefined, h.alpha.chainId, errorName]),
    );
    expect(findingsOf(result, legId)).toEqual([]);
    expect(result.supply.onChains + result.supply.inFlight).toBe(result.supply.issued);
  });
});

describe('a leg delivered after its deadline', () => {
  it.each(['layerzero', 'wormhole'] as const)('over %s fails with the vault’s reason, is flagged and refunded once', async (transport) => {
    const betaBefore = await collateralOn('beta');
    const legId = await sentLeg(transport, 600n);
    expect(await collateralOn('beta')).toBe(betaBefore - amount);
    for (const chain of h.manifest.chains) {
      const control = anvilControl(h.endpointOf(chain));
      await control.increaseTime({ seconds: 1_200 });
      await control.mine({ blocks: 1 });
    }
    const alphaBefore = await h.snapshot(h.alpha, account);

    await expect(deliverLegStep(context, legId)).rejects.toSatisfy(isFinal);
    const failed = await getLeg(ledger.db, legId);
    expect(failed).toMatchObject({ status: 'failed', failedFrom: 'sent' });
    expect(failed?.lastError).toMatch(/^destination refused: .*LegExpired\(/);
    expect(await h.snapshot(h.alpha, account)).toEqual(alphaBefore);

    const result = await runReconcile();
    // A LayerZero refusal is on chain too (LegRejected); a Wormhole one reverted and left none.
    expect(findingsOf(result, legId)).toEqual(transport === 'layerzero' ? [['refused_delivery', 'warning'], ['stuck_leg', 'warning']] : [['stuck_leg', 'warning']]);
    expect(result.findings.find((f) => f.legId === legId && f.kind === 'stuck_leg')?.detail).toMatchObject({ status: 'failed', action: 'refund' });
    expect(result.refunded).toEqual([legId]);
    expect(result.supply).toEqual({ onChains: result.supply.issued, inFlight: 0n, issued: result.supply.issued });
    expect((await listLegEvents(ledger.db, legId)).map((event) => event.toStatus)).toEqual(['planned', 'submitted', 'sent', 'failed', 'refunded']);
    expect(await collateralOn('beta')).toBe(betaBefore);

    const again = await runReconcile();
    expect(again.refunded).toEqual([]);
    expect(findingsOf(again, legId)).toEqual([]);
    expect(await legEventCount('beta', 'LegRefunded', legId)).toBe(1);
    expect(await collateralOn('beta')).toBe(betaBefore);
  });
});

describe('a refund the chain made and the ledger missed', () => {
  it('is flagged as critical and never refunded a second time', async () => {
    const betaBefore = await collateralOn('beta');
    const legId = await sentLeg('wormhole', 600n);
    for (const chain of h.manifest.chains) {
      const control = anvilControl(h.endpointOf(chain));
      await control.increaseTime({ seconds: 1_200 });
      await control.mine({ blocks: 1 });
    }
    // The node cancels the expired leg and delivers the refund, then dies before the ledger write.
    const refund = await cancelLeg({ signer: h.relayerOn(h.alpha), transport: h.transports.wormhole, from: h.alpha, to: h.beta, legId });
    await h.transports.wormhole.deliver(refund);
    expect(await collateralOn('beta')).toBe(betaBefore);

    for (const run of [await runReconcile(), await runReconcile()]) {
      expect(run.refunded).toEqual([]);
      expect(findingsOf(run, legId)).toEqual([['ledger_chain_mismatch', 'critical']]);
    }
    expect(await legEventCount('beta', 'LegRefunded', legId)).toBe(1);
    expect((await getLeg(ledger.db, legId))?.status).toBe('sent');
    expect(await collateralOn('beta')).toBe(betaBefore);
  });
});

// Last in the file: the forgery it lets through breaks supply for every later check.
describe('a forged delivery the vault accepts', () => {
  it('is flagged as critical: credited with no burn anywhere, and supply no longer adds up', async () => {
    const legId = keccak256(toHex('forged, accepted'));
    const forgedAmount = usd('7');
    const payload = h.payloadFor({ legId, account, amount: forgedAmount, deadline: (await h.chainTime(h.alpha)) + 3_600n });
    const receipt = await h.lzReceiveFrom({ to: h.alpha, from: h.beta, payload });
    expect(parseEventLogs({ abi: vaultCallAbi, eventName: 'LegReceived', logs: receipt.logs }).map((e) => e.args.legId)).toEqual([legId]);

    const result = await runReconcile();
    expect(result.findings.filter((f) => f.detail?.legId === legId).map((f) => [f.kind, f.severity, f.chainId, f.actual])).toEqual([['unknown_message', 'critical', h.alpha.chainId, forgedAmount]]);
    const supply = result.findings.find((f) => f.kind === 'supply_mismatch');
    expect(supply).toMatchObject({ severity: 'critical', expected: result.supply.issued, actual: result.supply.issued + forgedAmount });
  });
});
