import { randomBytes } from 'node:crypto';
import { keccak256, toHex } from 'viem';
import { anvilControl } from '../../chains/devnet/control.js';
import { reconcile } from '../../relayer/reconcile/reconcile.js';
import { eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { vaultAbi } from '../../chains/contracts/out/Vault.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { sendLeg } from '../../chains/protocol/legs.js';
import { price, usd } from '../../chains/protocol/units.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { getLeg, legs, listLegEvents, recordShortfall, registerChains, settlements, transitionLeg, type LedgerHandle } from '../../db/index.js';
import { ChainLegExecutor } from '../../relayer/execution/chain-leg-executor.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../relayer/execution/execution-context.js';
import { sendLegStep, vaultLegOf } from '../../relayer/execution/send-leg.js';
import { deliverLegStep } from '../../relayer/execution/deliver-leg.js';
import { ChainOptionSource } from '../../relayer/orchestrator/chain-options.js';
import { startOrchestrator } from '../../relayer/orchestrator/orchestrator.js';
import { planSettlement } from '../../relayer/orchestrator/plan-settlement.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { shortfallIdOfReport, shortfallRecord, shortfallReportSchema, type ShortfallReport } from '../../relayer/orchestrator/shortfall-report.js';
import type { SourcingOption } from '../../relayer/orchestrator/sourcing-option.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { createMigratedLedger } from '../db/support/test-database.js';

const tokens = () => new Map(h.manifest.chains.map((chain) => [chain.chainId, chain.contracts.collateralToken]));

let h: ProtocolHarness;
let ledger: LedgerHandle;
let cleanupLedger: () => Promise<void>;
let connection: Redis;
let context: ExecutionContext;

beforeAll(async () => {
  h = await ProtocolHarness.start();
  const created = await createMigratedLedger();
  ledger = created.ledger;
  cleanupLedger = created.cleanup;
  await registerChains(ledger.db, h.manifest.chains.map((c) => ({ chainId: c.chainId, key: c.key, lzEid: c.lzEid, wormholeChainId: c.wormholeChainId, confirmations: 0 })));
  connection = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  context = devnetExecutionContext({ manifest: h.manifest, transports: h.transports, ledger: ledger.db, actor: 'test-node' });
  // Trader 0 trades on alpha and keeps surplus, with consent, on beta and gamma.
  await h.seed({
    accounts: [
      { trader: 0, chain: 'alpha', deposit: '1000' },
      { trader: 0, chain: 'beta', deposit: '5000', crossChainConsent: true },
      { trader: 0, chain: 'gamma', deposit: '5000', crossChainConsent: true },
      { trader: 1, chain: 'beta', deposit: '5000', crossChainConsent: true },
      { trader: 2, chain: 'alpha', deposit: '1000', positions: [{ market: 'ETH-USD', size: '2' }] },
      { trader: 2, chain: 'gamma', deposit: '800', crossChainConsent: false },
      { trader: 3, chain: 'alpha', deposit: '1000', positions: [{ market: 'ETH-USD', size: '3' }] },
      { trader: 3, chain: 'beta', deposit: '100', crossChainConsent: true },
    ],
  });
});

afterAll(async () => {
  connection?.disconnect();
  await cleanupLedger?.();
  await h?.stop();
});

const collateralOf = (chain: ManifestChain, account: `0x${string}`) =>
  h.relayerOn(chain).public.readContract({ address: chain.contracts.marginEngine, abi: marginEngineAbi, functionName: 'collateralOf', args: [account] });

const collateralOption = (chain: ManifestChain, transport: 'layerzero' | 'wormhole', rate: number): SourcingOption => ({
  kind: 'collateral',
  sourceChainId: chain.chainId,
  sourceKey: chain.key,
  transport,
  capacity: usd('3000'),
  fixedCostUsd: 0.5,
  latencySeconds: 5,
  cost: { type: 'linear', rate },
});

let episode = 0n;
function report(account: `0x${string}`, required: string): ShortfallReport {
  episode += 1n;
  return {
    chainId: h.alpha.chainId,
    engine: h.alpha.contracts.marginEngine,
    account,
    episode: String(episode),
    reason: 'breach',
    equity: String(usd('900')),
    maintenance: String(usd('1000')),
    requiredAmount: String(usd(required)),
    mEff: 0.05,
    detectedBlock: '1',
    detectedAt: new Date().toISOString(),
  };
}

describe('sourcing options read from the chains', () => {
  it('offers consented surplus and vault reserves from every other chain over each transport, with quoted fees', async () => {
    const source = new ChainOptionSource({
      context,
      nativeUsd: () => 3_000,
      latencySeconds: { layerzero: 30, wormhole: 60 },
      gas: { source: 250_000n, destination: 300_000n },
      liquidityRate: 0.002,
      localLatencySeconds: 2,
      riskPerSecond: 0.01,
    });
    const zero = await source.candidates(report(traderAddress(0), '100'));
    const collateral = zero.filter((o) => o.kind === 'collateral');
    expect(collateral.map((o) => `${o.sourceKey}:${o.transport}`).sort()).toEqual(['beta:layerzero', 'beta:wormhole', 'gamma:layerzero', 'gamma:wormhole']);
    for (const option of collateral) {
      const chain = h.chain(option.sourceKey);
      const free = await h.relayerOn(chain).public.readContract({ address: chain.contracts.marginEngine, abi: marginEngineAbi, functionName: 'freeCollateral', args: [traderAddress(0)] });
      expect(option.capacity).toBe(free);
      expect(option.fixedCostUsd).toBeGreaterThan(0);
    }
    // A LayerZero leg pays DVN and executor fees on top of gas; Wormhole's message fee is tiny.
    const beta = (t: string) => collateral.find((o) => o.sourceKey === 'beta' && o.transport === t)?.fixedCostUsd ?? 0;
    expect(beta('layerzero')).toBeGreaterThan(beta('wormhole'));
    expect(zero.filter((o) => o.kind === 'liquidity')).toEqual([]); // no position on alpha to absorb
    // The planner sees one option per source: the same surplus over two transports is one capacity.
    const chosen = await source.optionsFor(report(traderAddress(0), '100'));
    expect(chosen.map((o) => o.sourceKey).sort()).toEqual(['beta', 'gamma']);
    const priced = (o: { fixedCostUsd: number; latencySeconds: number }) => o.fixedCostUsd + 0.01 * o.latencySeconds;
    for (const option of chosen) {
      const alternatives = collateral.filter((o) => o.sourceKey === option.sourceKey);
      expect(priced(option)).toBe(Math.min(...alternatives.map(priced)));
    }

    // Trader 2 has a position on alpha and, on gamma, surplus without consent: only vault liquidity.
    const two = await source.candidates(report(traderAddress(2), '100'));
    expect(two.filter((o) => o.kind === 'collateral')).toEqual([]);
    const liquidity = two.filter((o) => o.kind === 'liquidity');
    expect(liquidity).toHaveLength(4);
    expect(liquidity.every((o) => o.positionSize === 2n * 10n ** 18n && o.marketId === h.alpha.markets[0]?.marketId)).toBe(true);
  });
});

describe('settling a shortfall across chains on the devnet', () => {
  it('moves surplus from the cheaper chain, credits it on alpha, and records every step', async () => {
    const account = traderAddress(0);
    const before = { alpha: await collateralOf(h.alpha, account), beta: await collateralOf(h.beta, account), gamma: await collateralOf(h.gamma, account) };
    const supplyBefore = await h.totalSupply();
    const orchestrator = startOrchestrator({
      connection,
      prefix: `e2e-${randomBytes(4).toString('hex')}`,
      ledger: ledger.db,
      riskPerSecond: 0.01,
      // gamma over Wormhole costs more per dollar than beta over LayerZero: beta must win.
      optionSource: { optionsFor: async () => [collateralOption(h.gamma, 'wormhole', 0.004), collateralOption(h.beta, 'layerzero', 0.001)] },
      legExecutor: new ChainLegExecutor(context),
    });
    try {
      const shortfallId = await orchestrator.reportShortfall(report(account, '250'));
      for (let i = 0; i < 400; i += 1) {
        const done = await orchestrator.queues.byName.legs.getJobs(['completed']);
        if (done.some((job) => job.name === 'settle')) break;
        const failed = [...(await orchestrator.queues.byName.legs.getFailed()), ...(await orchestrator.queues.byName.deliveries.getFailed())];
        if (failed.length > 0) throw new Error(failed.map((job) => job.failedReason).join('; '));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const [settlement] = await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, shortfallId));
      const recorded = await ledger.db.select().from(legs).where(eq(legs.settlementId, settlement?.id ?? '0x'));
      expect(recorded.map((leg) => [leg.sourceChainId, leg.transport, leg.status, leg.amount])).toEqual([[h.beta.chainId, 'layerzero', 'credited', usd('250')]]);
      const events = await listLegEvents(ledger.db, recorded[0]?.id ?? '0x');
      expect(events.map((event) => event.toStatus)).toEqual(['planned', 'submitted', 'sent', 'verified', 'delivered', 'credited']);
      expect(events.find((e) => e.toStatus === 'sent')?.amount).toBe(usd('250'));
      expect(events.find((e) => e.toStatus === 'credited')?.amount).toBe(usd('250'));

      expect(await collateralOf(h.alpha, account)).toBe(before.alpha + usd('250'));
      expect(await collateralOf(h.beta, account)).toBe(before.beta - usd('250'));
      expect(await collateralOf(h.gamma, account)).toBe(before.gamma);
      expect(await h.totalSupply()).toBe(supplyBefore);
    } finally {
      await orchestrator.close();
      await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));
    }
  });

  it('recovers a worker that died between the send and the ledger write: the leg completes once, never sent twice', async () => {
    const account = traderAddress(1);
    const betaBefore = await collateralOf(h.beta, account);
    const parsed = shortfallReportSchema.parse(report(account, '100'));
    const { shortfall } = await recordShortfall(ledger.db, shortfallRecord(parsed));
    const planned = await planSettlement({
      ledger: ledger.db,
      shortfallId: shortfall.id,
      report: report(account, '100'),
      options: [collateralOption(h.beta, 'wormhole', 0.001)],
      riskPerSecond: 0,
      deadline: new Date(Date.now() + 3_600_000),
    });
    expect(shortfallIdOfReport(parsed)).toBe(shortfall.id);
    const legId = planned.legIds[0] ?? '0x';
    // The worker records `submitted`, sends, and dies before recording `sent`.
    await transitionLeg(ledger.db, { legId, from: 'planned', to: 'submitted', evidence: { chainId: h.beta.chainId, blockNumber: 0n } });
    const leg = await getLeg(ledger.db, legId);
    if (!leg) throw new Error('no leg');
    await sendLeg({ signer: h.relayerOn(h.beta), transport: h.transports.wormhole, from: h.beta, to: h.alpha, leg: vaultLegOf(leg) });

    // The restarted worker finds the send on chain instead of sending again.
    await sendLegStep(context, legId);
    await sendLegStep(context, legId); // and a duplicate job changes nothing
    await deliverLegStep(context, legId);
    await deliverLegStep(context, legId);

    expect((await getLeg(ledger.db, legId))?.status).toBe('credited');
    const sentLogs = await h.relayerOn(h.beta).public.getContractEvents({ address: h.beta.contracts.vault, abi: vaultAbi, eventName: 'LegSent', args: { legId }, fromBlock: 0n });
    expect(sentLogs).toHaveLength(1);
    expect(await collateralOf(h.beta, account)).toBe(betaBefore - usd('100'));
  });

  it('reconciles: every credited leg matches its debit and credit, supply plus in-flight equals issuance', async () => {
    const result = await reconcile({ context, tokens: tokens(), slaSeconds: 3_600 });
    expect(result.findings).toEqual([]);
    expect(result.reconciled).toBe(2);
    expect(result.supply.onChains + result.supply.inFlight).toBe(result.supply.issued);
    expect(result.supply.inFlight).toBe(0n);
  });

  it('flags a leg stuck past its deadline, refunds it once, and keeps supply conserved', async () => {
    const account = traderAddress(1);
    const betaBefore = await collateralOf(h.beta, account);
    const stuckReport = report(account, '40');
    const { shortfall } = await recordShortfall(ledger.db, shortfallRecord(shortfallReportSchema.parse(stuckReport)));
    const planned = await planSettlement({
      ledger: ledger.db,
      shortfallId: shortfall.id,
      report: stuckReport,
      options: [collateralOption(h.beta, 'layerzero', 0.001)],
      riskPerSecond: 0,
      deadline: new Date(Date.now() + 20_000),
    });
    const legId = planned.legIds[0] ?? '0x';
    await sendLegStep(context, legId); // sent, and then nobody delivers it in time
    for (const chain of [h.alpha, h.beta]) {
      const control = anvilControl(h.endpointOf(chain));
      await control.increaseTime({ seconds: 120 });
      await control.mine({ blocks: 1 });
    }
    const inFlightBefore = (await reconcile({ context, tokens: tokens(), slaSeconds: 60, refundExpired: false })).supply.inFlight;
    expect(inFlightBefore).toBe(usd('40'));

    const result = await reconcile({ context, tokens: tokens(), slaSeconds: 60 });
    expect(result.findings.map((f) => [f.kind, f.legId, f.detail?.action])).toEqual([['stuck_leg', legId, 'refund']]);
    expect(result.refunded).toEqual([legId]);
    expect((await getLeg(ledger.db, legId))?.status).toBe('refunded');
    expect(result.supply).toEqual({ onChains: result.supply.issued, inFlight: 0n, issued: result.supply.issued });
    expect(await collateralOf(h.beta, account)).toBe(betaBefore); // the refund credits the account back
    await deliverLegStep(context, legId); // a late delivery job changes nothing
    expect((await getLeg(ledger.db, legId))?.status).toBe('refunded');
    expect((await reconcile({ context, tokens: tokens(), slaSeconds: 60 })).findings).toEqual([]);
  });

  it('flags a leg a vault sent that the ledger never planned', async () => {
    const legId = keccak256(toHex('not planned by this node'));
    const deadline = (await h.relayerOn(h.alpha).public.getBlock()).timestamp + 3_600n;
    await sendLeg({ signer: h.relayerOn(h.beta), transport: h.transports.wormhole, from: h.beta, to: h.alpha, leg: { kind: 'collateral', legId, account: traderAddress(1), amount: usd('5'), deadline } });
    const result = await reconcile({ context, tokens: tokens(), slaSeconds: 3_600 });
    expect(result.findings.map((f) => [f.kind, f.detail?.legId, f.actual])).toEqual([['unknown_message', legId, usd('5')]]);
    expect(result.supply.inFlight).toBe(usd('5'));
    expect(result.supply.onChains + result.supply.inFlight).toBe(result.supply.issued);
  });

  it('covers a shortfall with collateral from another chain and a partial liquidation at home, every leg credited', async () => {
    const account = traderAddress(3);
    const eth = h.alpha.markets[0];
    if (!eth) throw new Error('no ETH market');
    // ETH falls 6.7% on alpha: trader 3 (3 ETH long on 1000) drops just below maintenance.
    await pushPrice({ signer: h.deployerOn(h.alpha), feed: eth.priceFeed, price: price('2800') });
    // Gas priced low (the devnet's ether is worth 1 USD here): moving surplus costs little more
    // than its wait, and less than the 2% liquidation penalty it saves.
    const source = new ChainOptionSource({ context, nativeUsd: () => 1, latencySeconds: { layerzero: 30, wormhole: 60 }, gas: { source: 250_000n, destination: 300_000n }, liquidityRate: 0.002, localLatencySeconds: 2, riskPerSecond: 0.01 });
    // Only the account's own value: its surplus on beta (100) is short of 300, so the rest is local.
    const optionSource = { optionsFor: async (r: ShortfallReport) => (await source.optionsFor(r)).filter((o) => o.kind !== 'liquidity') };
    const positionBefore = (await h.position(h.alpha, account, eth.marketId)).size;
    const orchestrator = startOrchestrator({
      connection,
      prefix: `e2e-${randomBytes(4).toString('hex')}`,
      ledger: ledger.db,
      riskPerSecond: 0.01,
      optionSource,
      legExecutor: new ChainLegExecutor(context),
    });
    try {
      const shortfallId = await orchestrator.reportShortfall(report(account, '300'));
      for (let i = 0; i < 400; i += 1) {
        if ((await orchestrator.queues.byName.legs.getJobs(['completed'])).some((job) => job.name === 'settle')) break;
        const failed = [...(await orchestrator.queues.byName.legs.getFailed()), ...(await orchestrator.queues.byName.deliveries.getFailed())];
        if (failed.length > 0) throw new Error(failed.map((job) => job.failedReason).join('; '));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const [settlement] = await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, shortfallId));
      const recorded = await ledger.db.select().from(legs).where(eq(legs.settlementId, settlement?.id ?? '0x'));
      expect(recorded.map((leg) => leg.kind).sort()).toEqual(['collateral', 'local']);
      expect(recorded.every((leg) => leg.status === 'credited')).toBe(true);
      expect(recorded.reduce((sum, leg) => sum + leg.amount, 0n)).toBe(usd('300'));
      expect(recorded.find((leg) => leg.kind === 'collateral')?.amount).toBe(usd('100'));
      const positionAfter = (await h.position(h.alpha, account, eth.marketId)).size;
      expect(positionAfter).toBeLessThan(positionBefore); // partly liquidated...
      expect(positionAfter).toBeGreaterThan(0n); // ...not closed
      expect((await reconcile({ context, tokens: tokens(), slaSeconds: 3_600 })).findings.filter((f) => f.kind !== 'unknown_message')).toEqual([]);
      // Legs credited on beta -> alpha over LayerZero moved that route's latency from the 30 s
      // prior toward what was measured (seconds, on the devnet); a route never used keeps it.
      const measured = await source.candidates(report(traderAddress(0), '10'));
      const latency = (key: string, transport: string) => measured.find((o) => o.kind === 'collateral' && o.sourceKey === key && o.transport === transport)?.latencySeconds;
      expect(latency('beta', 'layerzero')).toBeLessThan(30);
      expect(latency('gamma', 'layerzero')).toBe(30);
    } finally {
      await orchestrator.close();
      await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));
    }
  });
});
