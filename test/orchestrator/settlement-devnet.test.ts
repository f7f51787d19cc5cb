import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { keccak256, toHex, type Address } from 'viem';
import { anvilControl } from '../../chains/devnet/control.js';
import { reconcile } from '../../relayer/reconcile/reconcile.js';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { sendLeg } from '../../chains/protocol/legs.js';
import { price, usd } from '../../chains/protocol/units.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { transportKinds } from '../../chains/messaging/transport.js';
import { getLeg, listLegEvents, reconciledLegs, recordShortfall, settlements, transitionLeg, type LedgerHandle } from '../../db/index.js';
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
import type { OptionSource, SourcingOption } from '../../relayer/orchestrator/sourcing-option.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { REDIS_URL } from '../watcher/support.js';
import {
  breachOnAlpha,
  closeAndObliterate,
  collateralOf,
  collateralOption,
  legReceivedLogs,
  legSentLogs,
  legsOfShortfall,
  nextBaseFee,
  registerDevnetChains,
  settleCompleted,
  withBaseFee,
} from './support/devnet-settlement.js';

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
  await registerDevnetChains(ledger.db, h);
  connection = createRedis(REDIS_URL);
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
      // Trader 4 trades on alpha and keeps some surplus, with consent, on beta and on gamma.
      { trader: 4, chain: 'alpha', deposit: '3200', positions: [{ market: 'ETH-USD', size: '10' }] },
      { trader: 4, chain: 'beta', deposit: '120', crossChainConsent: true },
      { trader: 4, chain: 'gamma', deposit: '150', crossChainConsent: true },
      // Trader 5 keeps a deposit on alpha and ample surplus, with consent, on beta and on gamma.
      { trader: 5, chain: 'alpha', deposit: '1000' },
      { trader: 5, chain: 'beta', deposit: '5000', crossChainConsent: true },
      { trader: 5, chain: 'gamma', deposit: '5000', crossChainConsent: true },
    ],
  });
});

afterAll(async () => {
  connection?.disconnect();
  await cleanupLedger?.();
  await h?.stop();
});

const report = (account: Address, required: string): ShortfallReport => breachOnAlpha(h, { account, required });

const freeCollateralOf = (chain: ManifestChain, account: Address) =>
  h.relayerOn(chain).public.readContract({ address: chain.contracts.marginEngine, abi: marginEngineAbi, functionName: 'freeCollateral', args: [account] });

/** Gas a leg costs on its source and on its destination, as the option sources price it. */
const LEG_GAS = { source: 250_000n, destination: 300_000n } as const;

/** Options read from the chains, their ether (gas and fees) worth `nativeUsd` on every chain. */
const chainOptions = (nativeUsd: number) =>
  new ChainOptionSource({ context, nativeUsd: () => nativeUsd, latencySeconds: { layerzero: 30, wormhole: 60 }, gas: LEG_GAS, liquidityRate: 0.002, localLatencySeconds: 2, riskPerSecond: 0.01 });

/**
 * Options read from the chains with gas priced low (the devnet's ether is worth 1 USD here):
 * moving surplus costs little more than its wait, and less than the 2% liquidation penalty it saves.
 */
const lowGasOptions = () => chainOptions(1);

/** Only the account's own value: its surplus elsewhere and a liquidation at home, no vault liquidity. */
const ownValueOnly = (source: OptionSource): OptionSource => ({ optionsFor: async (r) => (await source.optionsFor(r)).filter((o) => o.kind !== 'liquidity') });

/** One settlement through the orchestrator, executed on the chains; the legs it recorded, once its `settle` job completed. */
/** Reports the shortfall (`times` times, as a restarted watcher or a second node would) and waits for its settlement. */
async function settle(params: { report: ShortfallReport; optionSource: OptionSource; times?: number }) {
  const orchestrator = startOrchestrator({
    connection,
    prefix: `e2e-${randomBytes(4).toString('hex')}`,
    ledger: ledger.db,
    riskPerSecond: 0.01,
    optionSource: params.optionSource,
    legExecutor: new ChainLegExecutor(context),
  });
  try {
    const ids = await Promise.all(Array.from({ length: params.times ?? 1 }, () => orchestrator.reportShortfall(params.report)));
    const shortfallId = ids[0] ?? '0x';
    expect(new Set(ids)).toEqual(new Set([shortfallId]));
    await settleCompleted(orchestrator.queues);
    return await legsOfShortfall(ledger.db, shortfallId);
  } finally {
    await closeAndObliterate(orchestrator);
  }
}

describe('sourcing options read from the chains', () => {
  it('offers consented surplus and vault reserves from every other chain over each transport, with quoted fees', async () => {
    const source = chainOptions(3_000);
    const zero = await source.candidates(report(traderAddress(0), '100'));
    const collateral = zero.filter((o) => o.kind === 'collateral');
    expect(collateral.map((o) => `${o.sourceKey}:${o.transport}`).sort()).toEqual(['beta:layerzero', 'beta:wormhole', 'gamma:layerzero', 'gamma:wormhole']);
    for (const option of collateral) {
      const chain = h.chain(option.sourceKey);
      expect(option.capacity).toBe(await freeCollateralOf(chain, traderAddress(0)));
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
  it('moves surplus from the cheaper chain once however often reported, credits it on alpha, and records every step', async () => {
    const account = traderAddress(0);
    const before = { alpha: await collateralOf(h, h.alpha, account), beta: await collateralOf(h, h.beta, account), gamma: await collateralOf(h, h.gamma, account) };
    const supplyBefore = await h.totalSupply();
    const shortfall = report(account, '250');
    const recorded = await settle({
      report: shortfall,
      // gamma over Wormhole costs more per dollar than beta over LayerZero: beta must win.
      optionSource: { optionsFor: async () => [collateralOption(h.gamma, 'wormhole', 0.004), collateralOption(h.beta, 'layerzero', 0.001)] },
      times: 3,
    });
    // Reported three times, settled once: one settlement, one send.
    expect(await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, shortfallIdOfReport(shortfall)))).toHaveLength(1);
    expect(await legSentLogs(h, h.beta, recorded[0]?.id ?? '0x')).toHaveLength(1);
    expect(recorded.map((leg) => [leg.sourceChainId, leg.transport, leg.status, leg.amount])).toEqual([[h.beta.chainId, 'layerzero', 'credited', usd('250')]]);
    const events = await listLegEvents(ledger.db, recorded[0]?.id ?? '0x');
    expect(events.map((event) => event.toStatus)).toEqual(['planned', 'submitted', 'sent', 'verified', 'delivered', 'credited']);
    expect(events.find((e) => e.toStatus === 'sent')?.amount).toBe(usd('250'));
    expect(events.find((e) => e.toStatus === 'credited')?.amount).toBe(usd('250'));

    expect(await collateralOf(h, h.alpha, account)).toBe(before.alpha + usd('250'));
    expect(await collateralOf(h, h.beta, account)).toBe(before.beta - usd('250'));
    expect(await collateralOf(h, h.gamma, account)).toBe(before.gamma);
    expect(await h.totalSupply()).toBe(supplyBefore);
  });

  it('recovers a worker that died between the send and the ledger write: the leg completes once, never sent twice', async () => {
    const account = traderAddress(1);
    const betaBefore = await collateralOf(h, h.beta, account);
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
    expect(await legSentLogs(h, h.beta, legId)).toHaveLength(1);
    expect(await collateralOf(h, h.beta, account)).toBe(betaBefore - usd('100'));
  });

  it('reconciles: every credited leg matches its debit and credit, supply plus in-flight equals issuance', async () => {
    const result = await reconcile({ context, tokens: tokens(), slaSeconds: 3_600 });
    expect(result.findings).toEqual([]);
    expect(result.reconciled).toBe(2);
    expect(result.supply.onChains + result.supply.inFlight).toBe(result.supply.issued);
    expect(result.supply.inFlight).toBe(0n);
  });

  it('sends a leg once when two runs of its job race: the run the vault refuses finds the send of the other', async () => {
    const account = traderAddress(1);
    const betaBefore = await collateralOf(h, h.beta, account);
    const raced = report(account, '30');
    const { shortfall } = await recordShortfall(ledger.db, shortfallRecord(shortfallReportSchema.parse(raced)));
    const planned = await planSettlement({ ledger: ledger.db, shortfallId: shortfall.id, report: raced, options: [collateralOption(h.beta, 'wormhole', 0.001)], riskPerSecond: 0, deadline: new Date(Date.now() + 3_600_000) });
    const legId = planned.legIds[0] ?? '0x';
    // Both look on chain before either has sent: both send, and the vault refuses the second.
    const runs = await Promise.allSettled([sendLegStep(context, legId), sendLegStep(context, legId)]);
    expect(runs.map((run) => run.status)).toEqual(['fulfilled', 'fulfilled']);
    expect((await getLeg(ledger.db, legId))?.status).toBe('sent');
    expect(await legSentLogs(h, h.beta, legId)).toHaveLength(1);
    await deliverLegStep(context, legId);
    expect((await getLeg(ledger.db, legId))?.status).toBe('credited');
    expect(await collateralOf(h, h.beta, account)).toBe(betaBefore - usd('30'));
  });

  it('flags a leg stuck past its deadline, refunds it once, and keeps supply conserved', async () => {
    const account = traderAddress(1);
    const betaBefore = await collateralOf(h, h.beta, account);
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
    expect(await collateralOf(h, h.beta, account)).toBe(betaBefore); // the refund credits the account back
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
    const source = lowGasOptions();
    const positionBefore = (await h.position(h.alpha, account, eth.marketId)).size;
    // Only the account's own value: its surplus on beta (100) is short of 300, so the rest is local.
    const recorded = await settle({ report: report(account, '300'), optionSource: ownValueOnly(source) });
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
  });

  it('covers a shortfall from surplus on two chains, each and both short, and a partial liquidation at home for the rest', async () => {
    const account = traderAddress(4);
    const eth = h.alpha.markets[0];
    if (!eth) throw new Error('no ETH market');
    // ETH at 2780 on alpha: trader 4 (10 ETH long on 3200) has about 1000 of equity against 1390
    // of maintenance. The deficit is larger than its surplus elsewhere (120 + 150), so the
    // account is still liquidatable when the local leg runs, whether or not the others landed.
    await pushPrice({ signer: h.deployerOn(h.alpha), feed: eth.priceFeed, price: price('2780') });
    const required = usd('400');
    const free = { beta: await freeCollateralOf(h.beta, account), gamma: await freeCollateralOf(h.gamma, account) };
    expect([free.beta < required, free.gamma < required, free.beta + free.gamma < required]).toEqual([true, true, true]);
    const alphaView = await h.account(h.alpha, account);
    expect(BigInt(alphaView.maintenanceMargin) - alphaView.equity).toBeGreaterThan(free.beta + free.gamma);
    const before = { beta: await collateralOf(h, h.beta, account), gamma: await collateralOf(h, h.gamma, account), position: (await h.position(h.alpha, account, eth.marketId)).size };

    const recorded = await settle({ report: report(account, '400'), optionSource: ownValueOnly(lowGasOptions()) });
    const bySource = (chainId: number) => recorded.filter((leg) => leg.sourceChainId === chainId);
    expect(recorded.map((leg) => [leg.kind, leg.sourceChainId, leg.status]).sort()).toEqual([
      ['collateral', h.beta.chainId, 'credited'],
      ['collateral', h.gamma.chainId, 'credited'],
      ['local', h.alpha.chainId, 'credited'],
    ].sort());
    const [fromBeta] = bySource(h.beta.chainId);
    const [fromGamma] = bySource(h.gamma.chainId);
    const [local] = bySource(h.alpha.chainId);
    // Each chain's whole surplus, and the liquidation for the rest: exactly what was required.
    expect([fromBeta?.amount, fromGamma?.amount, local?.amount]).toEqual([free.beta, free.gamma, required - free.beta - free.gamma]);
    expect(recorded.reduce((sum, leg) => sum + leg.amount, 0n)).toBe(required);
    for (const [leg, chain] of [[fromBeta, h.beta], [fromGamma, h.gamma]] as const) {
      const legId = leg?.id ?? '0x';
      expect(await legSentLogs(h, chain, legId)).toHaveLength(1);
      expect((await legReceivedLogs(h, h.alpha, legId)).map((log) => log.args.amount)).toEqual([leg?.amount]);
    }
    expect(await collateralOf(h, h.beta, account)).toBe(before.beta - free.beta);
    expect(await collateralOf(h, h.gamma, account)).toBe(before.gamma - free.gamma);
    const positionAfter = (await h.position(h.alpha, account, eth.marketId)).size;
    expect(positionAfter).toBeLessThan(before.position); // partly liquidated...
    expect(positionAfter).toBeGreaterThan(0n); // ...not closed
    const reconciled = await reconcile({ context, tokens: tokens(), slaSeconds: 3_600 });
    expect(reconciled.findings.filter((f) => f.kind !== 'unknown_message')).toEqual([]);
    expect(reconciled.supply.onChains + reconciled.supply.inFlight).toBe(reconciled.supply.issued);
  });
});

describe('choosing between two chains\' surplus by what their gas costs', () => {
  /** Ether is worth the same on every chain: what makes one source dearer is its chain's gas price. */
  const NATIVE_USD = 3_000;
  /** 50 gwei: a leg's source gas there costs about 37 USD more than near anvil's 1 gwei tip. */
  const DEAR_BASE_FEE = 50_000_000_000n;
  const WEI_PER_ETHER = 10n ** 18n;
  const account = traderAddress(5);
  const required = usd('250');

  const costOf = (options: readonly SourcingOption[], chain: ManifestChain, transport: string) => {
    const option = options.find((o) => o.kind === 'collateral' && o.sourceChainId === chain.chainId && o.transport === transport);
    if (!option) throw new Error(`no collateral option from ${chain.key} over ${transport}`);
    return option.fixedCostUsd;
  };
  const priced = (o: SourcingOption) => o.fixedCostUsd + 0.01 * o.latencySeconds;

  /**
   * One shortfall of trader 5 on alpha settled while gas on `dear` costs 50 gwei (put back
   * after): only `cheap`'s surplus moves, credited on alpha, and reconciliation agrees.
   */
  async function settleWhileGasIsDearOn(params: { dear: ManifestChain; cheap: ManifestChain }) {
    const { dear, cheap } = params;
    const source = chainOptions(NATIVE_USD);
    const shortfall = report(account, '250');
    const usual = await source.candidates(shortfall);
    const usualGasPrice = await h.relayerOn(dear).public.getGasPrice();
    const usualBaseFee = await nextBaseFee(h, dear);
    const before = { alpha: await collateralOf(h, h.alpha, account), cheap: await collateralOf(h, cheap, account), dear: await collateralOf(h, dear, account) };
    const supplyBefore = await h.totalSupply();

    const leg = await withBaseFee(h, dear, DEAR_BASE_FEE, async () => {
      expect(await h.relayerOn(dear).public.getGasPrice()).toBe(usualGasPrice - usualBaseFee + DEAR_BASE_FEE);
      // Trader 5 has no position on alpha: its surplus on the two other chains is all there is.
      const candidates = await source.candidates(shortfall);
      expect(candidates.map((o) => `${o.kind}:${o.sourceKey}:${o.transport}`).sort()).toEqual(
        [h.beta, h.gamma].flatMap((chain) => transportKinds.map((t) => `collateral:${chain.key}:${t}`)).sort(),
      );
      // Over either transport, a leg from `dear` now costs its dearer source gas more, exactly;
      // one from `cheap` costs what it did, and so less than one from `dear`.
      const dearer = (Number((DEAR_BASE_FEE - usualBaseFee) * LEG_GAS.source) / Number(WEI_PER_ETHER)) * NATIVE_USD;
      for (const transport of transportKinds) {
        expect(costOf(candidates, dear, transport) - costOf(usual, dear, transport)).toBeCloseTo(dearer, 6);
        expect(costOf(candidates, cheap, transport)).toBe(costOf(usual, cheap, transport));
        expect(costOf(candidates, cheap, transport)).toBeLessThan(costOf(candidates, dear, transport));
      }
      // The planner sees one option per chain, and `cheap`'s, wait included, is the cheaper.
      const options = await source.optionsFor(shortfall);
      const [fromCheap, fromDear] = [cheap, dear].map((chain) => options.find((o) => o.sourceChainId === chain.chainId));
      if (!fromCheap || !fromDear) throw new Error(`offered ${options.map((o) => o.sourceKey).join(', ')}`);
      expect(options).toHaveLength(2);
      expect(priced(fromCheap)).toBeLessThan(priced(fromDear));

      const recorded = await settle({ report: shortfall, optionSource: source });
      expect(recorded.map((l) => [l.kind, l.sourceChainId, l.destinationChainId, l.transport, l.status, l.amount])).toEqual([
        ['collateral', cheap.chainId, h.alpha.chainId, fromCheap.transport, 'credited', required],
      ]);
      return recorded[0];
    });
    expect(await h.relayerOn(dear).public.getGasPrice()).toBe(usualGasPrice); // put back for the tests after

    const legId = leg?.id ?? '0x';
    expect((await listLegEvents(ledger.db, legId)).at(-1)?.toStatus).toBe('credited');
    expect(await legSentLogs(h, cheap, legId)).toHaveLength(1);
    expect(await legSentLogs(h, dear, legId)).toEqual([]);
    expect((await legReceivedLogs(h, h.alpha, legId)).map((log) => log.args.amount)).toEqual([required]);
    expect(await collateralOf(h, h.alpha, account)).toBe(before.alpha + required);
    expect(await collateralOf(h, cheap, account)).toBe(before.cheap - required);
    expect(await collateralOf(h, dear, account)).toBe(before.dear);
    expect(await h.totalSupply()).toBe(supplyBefore);

    const reconciled = await reconcile({ context, tokens: tokens(), slaSeconds: 3_600 });
    expect(reconciled.findings.filter((f) => f.legId === legId || f.detail?.legId === legId)).toEqual([]);
    expect(reconciled.findings.filter((f) => f.kind !== 'unknown_message')).toEqual([]);
    const marked = await ledger.db.select().from(reconciledLegs).where(eq(reconciledLegs.runId, reconciled.runId));
    expect(marked.map((row) => row.legId)).toContain(legId);
  }

  it('moves the surplus from the chain whose gas is cheaper, and from the other once their costs flip', async () => {
    await settleWhileGasIsDearOn({ dear: h.gamma, cheap: h.beta });
    // The same account, a second shortfall, the costs the other way round: the choice follows them.
    await settleWhileGasIsDearOn({ dear: h.beta, cheap: h.gamma });
  });
});
