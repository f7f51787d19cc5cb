import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { keccak256, toHex, type Address } from 'viem';
import { anvilControl } from '../../chains/devnet/control.js';
import { reconcile } from '../../relayer/reconcile/reconcile.js';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { sendLeg } from '../../chains/protocol/legs.js';
import { price, usd } from '../../chains/protocol/units.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { transportKinds } from '../../chains/messaging/transport.js';
import { closeShortfall, getLeg, listLegEvents, reconciledLegs, settlements, shortfalls, transitionLeg, type LedgerHandle } from '../../db/index.js';
import { ChainLegExecutor } from '../../relayer/execution/chain-leg-executor.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../relayer/execution/execution-context.js';
import { sendLegStep, vaultLegOf } from '../../relayer/execution/send-leg.js';
import { deliverLegStep } from '../../relayer/execution/deliver-leg.js';
import { ChainWorld, sourceKey, type AccountWorld, type WorldRequest, type WorldSource } from '../../relayer/orchestrator/chain-world.js';
import { defaultPolicySettings } from '../../relayer/orchestrator/fixed-world.js';
import { startOrchestrator } from '../../relayer/orchestrator/orchestrator.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { shortfallIdOfReport, type ShortfallReport } from '../../relayer/orchestrator/shortfall-report.js';
import { usdOf, type PolicyRoute, type PolicySnapshot } from '../../relayer/policy/index.js';
import { policyOptions } from '../../relayer/policy/options.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { REDIS_URL } from '../watcher/support.js';
import {
  breachOnAlpha,
  closeAndObliterate,
  collateralOf,
  collateralSource,
  engineHealth,
  episodesAtRest,
  handMadeWorld,
  legReceivedLogs,
  legSentLogs,
  legsOfShortfall,
  nextBaseFee,
  registerDevnetChains,
  targetGap,
  withBaseFee,
} from './support/devnet-settlement.js';
import { recordRevision } from './support/record-revision.js';

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

// No watcher runs here to close an episode once its account is safe, and every orchestrator's
// review looks at every open episode in the ledger: each test's episodes end with it, so a later
// test's orchestrator acts on its own episodes only.
afterEach(async () => {
  const open = await ledger.db.select({ id: shortfalls.id }).from(shortfalls).where(and(eq(shortfalls.status, 'open'), eq(shortfalls.chainId, h.alpha.chainId)));
  for (const { id } of open) await closeShortfall(ledger.db, { shortfallId: id, closedAt: new Date(), badDebt: 0n });
});

afterAll(async () => {
  connection?.disconnect();
  await cleanupLedger?.();
  await h?.stop();
});

/** A breach of `account` on alpha needing `required` USD (by default what restores its target, as the watcher computes it). */
const report = (account: Address, required?: string): Promise<ShortfallReport> => breachOnAlpha(h, { account, ...(required === undefined ? {} : { required }) });

const freeCollateralOf = (chain: ManifestChain, account: Address) =>
  h.relayerOn(chain).public.readContract({ address: chain.contracts.marginEngine, abi: marginEngineAbi, functionName: 'freeCollateral', args: [account] });

/** Gas a leg costs on its source and on its destination, as the world prices it. */
const LEG_GAS = { source: 250_000n, destination: 300_000n } as const;

/** The world read from the chains, their ether (gas and fees) worth `nativeUsd` on every chain. */
const chainWorld = (nativeUsd: number) => new ChainWorld({ context, nativeUsd: () => nativeUsd, latencySeconds: { layerzero: 30, wormhole: 60 }, gas: LEG_GAS });

/** What the plan job asks the world for an account on alpha (m_eff the static fraction, the node's target). */
const onAlpha = (account: Address): WorldRequest => ({ chainId: h.alpha.chainId, account, targetFraction: (_market, m) => m * (1 + defaultPolicySettings.target), sigma: () => defaultPolicySettings.sigmaPrior });

/**
 * The world read from the chains with gas priced low (the devnet's ether is worth 1 USD here):
 * moving surplus costs little more than its wait, and less than the 2% liquidation penalty it saves.
 */
const lowGasWorld = () => chainWorld(1);

/** Only the account's own value: its surplus elsewhere and a liquidation at home, no vault liquidity. */
const ownValueOnly = (world: WorldSource): WorldSource => ({
  worldFor: async (request) => {
    const read = await world.worldFor(request);
    return { ...read, sources: read.sources.filter((source) => source.kind !== 'liquidity') };
  },
});

/** The snapshot the core would take of `world` for `required` on alpha, nothing in flight. */
const snapshotOf = (account: Address, world: AccountWorld, required: bigint): PolicySnapshot => ({
  account,
  chainId: h.alpha.chainId,
  chainKey: h.alpha.key,
  assessment: { atRisk: true, ...world.health, required },
  positions: world.positions,
  inFlight: [],
  sources: world.sources,
  avoid: [],
  terms: { ...defaultPolicySettings, homeGasUsd: world.homeGasUsd },
});

/** A route's price to the core: its fixed cost plus the price of its wait. */
const priced = (route: PolicyRoute, riskPerSecond: number) => route.fixedCostUsd + riskPerSecond * route.latencySeconds;

/**
 * Reports the shortfall (`times` times, as a restarted watcher or a second node would) to an
 * orchestrator over `worldSource` that executes on the chains, and waits until its closed loop
 * is at rest (every decision taken, every revision run); the legs it recorded, every revision's.
 */
async function settle(params: { report: ShortfallReport; worldSource: WorldSource; times?: number }) {
  const orchestrator = startOrchestrator({
    connection,
    prefix: `e2e-${randomBytes(4).toString('hex')}`,
    ledger: ledger.db,
    worldSource: params.worldSource,
    policy: defaultPolicySettings,
    chainKeys: new Map(h.manifest.chains.map((chain) => [chain.chainId, chain.key])),
    legExecutor: new ChainLegExecutor(context),
  });
  try {
    const ids = await Promise.all(Array.from({ length: params.times ?? 1 }, () => orchestrator.reportShortfall(params.report)));
    const shortfallId = ids[0] ?? '0x';
    expect(new Set(ids)).toEqual(new Set([shortfallId]));
    try {
      await episodesAtRest(orchestrator.queues);
    } catch (error) {
      // What the closed loop did before it failed: each revision's legs.
      const revisions = new Map((await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, shortfallId))).map((r) => [r.id, r.revision]));
      const done = (await legsOfShortfall(ledger.db, shortfallId)).map((l) => `r${revisions.get(l.settlementId)} ${l.kind} from ${l.sourceChainId}: amount ${l.amount}, relief ${l.relief}, ${l.status}`);
      throw new Error(`${error instanceof Error ? error.message : String(error)}\nlegs recorded:\n${done.join('\n')}`, { cause: error });
    }
    return await legsOfShortfall(ledger.db, shortfallId);
  } finally {
    await closeAndObliterate(orchestrator);
  }
}

/**
 * A local leg closed the size its revision planned, as the engine let it: its `Liquidated`
 * event's size is what left the position, no more than planned and short of it only by the
 * engine's own rounding of its cap (a millionth of it at most); the amount credited is that
 * size's notional at the oracle `price`.
 */
async function expectLiquidatedAsPlanned(params: { legId: string | undefined; planned: bigint | null | undefined; closed: bigint; price: bigint }) {
  const planned = params.planned ?? 0n;
  expect(planned).toBeGreaterThan(0n);
  const credited = (await listLegEvents(ledger.db, (params.legId ?? '0x') as `0x${string}`)).find((e) => e.toStatus === 'credited');
  expect(credited?.detail?.['size']).toBe(params.closed.toString());
  expect(params.closed).toBeGreaterThan(0n);
  expect(params.closed).toBeLessThanOrEqual(planned);
  expect(planned - params.closed).toBeLessThanOrEqual(planned / 1_000_000n);
  expect(credited?.amount).toBe((params.closed * params.price) / 10n ** 20n);
}

describe('the world read from the chains', () => {
  it('offers consented surplus and vault reserves from every other chain over each transport, with quoted fees', async () => {
    const world = chainWorld(3_000);
    const zero = await world.worldFor(onAlpha(traderAddress(0)));
    expect(zero.health).toEqual(await engineHealth(h, h.alpha, traderAddress(0)));
    expect(zero.positions).toEqual([]); // no position on alpha to absorb or liquidate
    const collateral = zero.sources.filter((s) => s.kind === 'collateral');
    expect(collateral.flatMap((s) => s.routes.map((r) => `${s.key}:${r.transport}`)).sort()).toEqual(['beta:layerzero', 'beta:wormhole', 'gamma:layerzero', 'gamma:wormhole']);
    for (const source of collateral) {
      const chain = h.chain(source.key);
      expect(source.capacity).toBe(await freeCollateralOf(chain, traderAddress(0)));
      // Read at one block, nothing reserved yet: net is gross.
      expect(zero.observed.get(sourceKey('collateral', chain.chainId))?.capacity).toBe(source.capacity);
      for (const route of source.routes) expect(route.fixedCostUsd).toBeGreaterThan(0);
    }
    // A LayerZero leg pays DVN and executor fees on top of gas; Wormhole's message fee is tiny.
    const beta = (t: string) => collateral.find((s) => s.key === 'beta')?.routes.find((r) => r.transport === t)?.fixedCostUsd ?? 0;
    expect(beta('layerzero')).toBeGreaterThan(beta('wormhole'));
    expect(zero.sources.filter((s) => s.kind === 'liquidity')).toEqual([]); // no position on alpha to absorb
    // The core sees one option per source: the same surplus over two transports is one capacity,
    // over its cheapest route, wait included.
    const riskPerSecond = 0.01;
    const chosen = policyOptions({ snapshot: snapshotOf(traderAddress(0), zero, usd('100')), riskPerSecond, needUsd: 100 });
    expect(chosen.map(({ option }) => option.id.split(':').slice(0, 2).join(':')).sort()).toEqual(['collateral:beta', 'collateral:gamma']);
    for (const { option } of chosen) {
      const source = collateral.find((s) => option.id.startsWith(`collateral:${s.key}:`));
      expect(option.capacity).toBe(usdOf(source?.capacity ?? 0n));
      expect(option.fixedCost + riskPerSecond * option.latency).toBe(Math.min(...(source?.routes ?? []).map((r) => priced(r, riskPerSecond))));
    }

    // Trader 2 has a position on alpha and, on gamma, surplus without consent: only vault liquidity,
    // from each other chain's vault over each transport, quoted for taking over its position.
    const two = await world.worldFor(onAlpha(traderAddress(2)));
    expect(two.sources.filter((s) => s.kind === 'collateral')).toEqual([]);
    const liquidity = two.sources.filter((s) => s.kind === 'liquidity');
    expect(liquidity.flatMap((s) => s.routes.map((r) => `${s.key}:${r.transport}`)).sort()).toEqual(['beta:layerzero', 'beta:wormhole', 'gamma:layerzero', 'gamma:wormhole']);
    for (const source of liquidity) expect(source.capacity).toBe(await h.reserveOf(h.chain(source.key)));
    const eth = h.alpha.markets[0]?.marketId ?? '0x';
    expect(two.positions.map((p) => [p.marketId, p.long])).toEqual([[eth, true]]);
    expect(two.markets.get(eth)?.size).toBe(2n * 10n ** 18n);
  });
});

describe('settling a shortfall across chains on the devnet', () => {
  it('moves surplus from the cheaper chain once however often reported, credits it on alpha, and records every step', async () => {
    const account = traderAddress(0);
    const before = { alpha: await collateralOf(h, h.alpha, account), beta: await collateralOf(h, h.beta, account), gamma: await collateralOf(h, h.gamma, account) };
    const supplyBefore = await h.totalSupply();
    const shortfall = await report(account, '250');
    const recorded = await settle({
      report: shortfall,
      // A leg from gamma over Wormhole costs more (gas and fee) than one from beta over LayerZero: beta must win.
      worldSource: handMadeWorld(h, [collateralSource(h.gamma, 'wormhole', 2), collateralSource(h.beta, 'layerzero', 0.5)]),
      times: 3,
    });
    // Reported three times, settled once: one settlement, one send; once it is credited nothing more is needed.
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
    const shortfall = await report(account, '100');
    const planned = await recordRevision({ ledger: ledger.db, report: shortfall, worldSource: handMadeWorld(h, [collateralSource(h.beta, 'wormhole', 0.5)]) });
    expect(planned.shortfallId).toBe(shortfallIdOfReport(shortfall));
    expect(planned.legIds).toHaveLength(1);
    const legId = planned.legIds[0] ?? '0x';
    // The worker records `submitted`, sends, and dies before recording `sent`.
    await transitionLeg(ledger.db, { legId, from: 'planned', to: 'submitted', evidence: { chainId: h.beta.chainId, blockNumber: 0n } });
    const leg = await getLeg(ledger.db, legId);
    if (!leg) throw new Error('no leg');
    expect([leg.kind, leg.sourceChainId, leg.transport, leg.amount]).toEqual(['collateral', h.beta.chainId, 'wormhole', usd('100')]);
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
    const planned = await recordRevision({ ledger: ledger.db, report: await report(account, '30'), worldSource: handMadeWorld(h, [collateralSource(h.beta, 'wormhole', 0.5)]) });
    expect(planned.legIds).toHaveLength(1);
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
    const planned = await recordRevision({
      ledger: ledger.db,
      report: await report(account, '40'),
      worldSource: handMadeWorld(h, [collateralSource(h.beta, 'layerzero', 0.5)]),
      legDeadlineSeconds: 20,
    });
    expect(planned.legIds).toHaveLength(1);
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

  it('covers a shortfall below maintenance with a partial liquidation at home first, then collateral from another chain, every leg credited', async () => {
    const account = traderAddress(3);
    const eth = h.alpha.markets[0];
    if (!eth) throw new Error('no ETH market');
    // ETH falls 6.7% on alpha: trader 3 (3 ETH long on 1000) drops just below maintenance.
    await pushPrice({ signer: h.deployerOn(h.alpha), feed: eth.priceFeed, price: price('2800') });
    const world = lowGasWorld();
    const positionBefore = (await h.position(h.alpha, account, eth.marketId)).size;
    const before = await engineHealth(h, h.alpha, account);
    expect(before.equity).toBeLessThan(before.maintenance); // any keeper may liquidate it now, bluntly
    const surplus = await freeCollateralOf(h.beta, account);
    // Only the account's own value: its surplus on beta (100) and a liquidation at home. The
    // watcher's required amount: what brings equity back to 1.2 times maintenance.
    const recorded = await settle({ report: await report(account), worldSource: ownValueOnly(world) });
    // Below maintenance with nothing landing before a keeper could act: first, at home, the
    // partial liquidation that restores maintenance; then, once it ran, the rest from beta.
    expect(recorded.map((leg) => leg.kind)).toEqual(['local', 'collateral']);
    expect(recorded.every((leg) => leg.status === 'credited')).toBe(true);
    const [local, collateral] = recorded;
    // The local leg liquidated the size it planned: part of the position, not all of it.
    const positionAfter = (await h.position(h.alpha, account, eth.marketId)).size;
    await expectLiquidatedAsPlanned({ legId: local?.id, planned: local?.positionSize, closed: positionBefore - positionAfter, price: price('2800') });
    expect(positionAfter).toBeGreaterThan(0n);
    // Beta moved what the liquidation left to cover, and no more: the account ends at its target.
    expect(collateral?.amount).toBeGreaterThan(0n);
    expect(collateral?.amount).toBeLessThan(surplus);
    const after = await engineHealth(h, h.alpha, account);
    expect(after.equity).toBeGreaterThanOrEqual(after.maintenance);
    // To within a cent either way: the sizes are rounded, and what is left is below the smallest action.
    const off = after.equity - (after.maintenance * 6n) / 5n;
    expect(off < 0n ? -off : off).toBeLessThanOrEqual(usd('0.01'));
    expect(targetGap(after)).toBeLessThan(defaultPolicySettings.minAction);
    expect((await reconcile({ context, tokens: tokens(), slaSeconds: 3_600 })).findings.filter((f) => f.kind !== 'unknown_message')).toEqual([]);
    // Legs credited on beta -> alpha over LayerZero moved that route's latency from the 30 s
    // prior toward what was measured (seconds, on the devnet); a route never used keeps it.
    const measured = await world.worldFor(onAlpha(traderAddress(0)));
    const latency = (key: string, transport: string) => measured.sources.find((s) => s.kind === 'collateral' && s.key === key)?.routes.find((r) => r.transport === transport)?.latencySeconds;
    expect(latency('beta', 'layerzero')).toBeLessThan(30);
    expect(latency('gamma', 'layerzero')).toBe(30);
  });

  it('covers a shortfall past two chains\' surplus: a partial liquidation at home for what they cannot cover (the liquidation buffer lets it past maintenance), and the surplus of both', async () => {
    const account = traderAddress(4);
    const eth = h.alpha.markets[0];
    if (!eth) throw new Error('no ETH market');
    // ETH at 2820 on alpha: trader 4 (10 ETH long on 3200) has 1400 of equity against 1410 of
    // maintenance. Restoring maintenance takes a small liquidation; its target then needs
    // about 0.2 of maintenance more, more than its surplus on beta (120) and gamma (150) together:
    // the rest is the home close's, which the engine lets go on to maintenance plus its buffer.
    await pushPrice({ signer: h.deployerOn(h.alpha), feed: eth.priceFeed, price: price('2820') });
    const alphaView = await engineHealth(h, h.alpha, account);
    expect(alphaView.equity).toBeLessThan(alphaView.maintenance);
    const free = { beta: await freeCollateralOf(h.beta, account), gamma: await freeCollateralOf(h.gamma, account) };
    const before = { beta: await collateralOf(h, h.beta, account), gamma: await collateralOf(h, h.gamma, account), position: (await h.position(h.alpha, account, eth.marketId)).size };

    const shortfall = await report(account);
    const required = BigInt(shortfall.requiredAmount);
    expect([free.beta < required, free.gamma < required, free.beta + free.gamma < required]).toEqual([true, true, true]);
    const recorded = await settle({ report: shortfall, worldSource: ownValueOnly(lowGasWorld()) });
    // The liquidation first, alone; then both chains' surplus in one revision.
    expect(recorded.map((leg) => [leg.kind, leg.sourceChainId, leg.status])).toEqual([
      ['local', h.alpha.chainId, 'credited'],
      ['collateral', h.beta.chainId, 'credited'],
      ['collateral', h.gamma.chainId, 'credited'],
    ]);
    const [local, fromBeta, fromGamma] = recorded;
    expect(new Set(recorded.slice(1).map((leg) => leg.settlementId)).size).toBe(1);
    // Each chain's whole surplus.
    expect([fromBeta?.amount, fromGamma?.amount]).toEqual([free.beta, free.gamma]);
    for (const [leg, chain] of [[fromBeta, h.beta], [fromGamma, h.gamma]] as const) {
      const legId = leg?.id ?? '0x';
      expect(await legSentLogs(h, chain, legId)).toHaveLength(1);
      expect((await legReceivedLogs(h, h.alpha, legId)).map((log) => log.args.amount)).toEqual([leg?.amount]);
    }
    expect(await collateralOf(h, h.beta, account)).toBe(before.beta - free.beta);
    expect(await collateralOf(h, h.gamma, account)).toBe(before.gamma - free.gamma);
    // The local leg liquidated the size it planned: part of the position, not all of it.
    const positionAfter = (await h.position(h.alpha, account, eth.marketId)).size;
    await expectLiquidatedAsPlanned({ legId: local?.id, planned: local?.positionSize, closed: before.position - positionAfter, price: price('2820') });
    expect(positionAfter).toBeGreaterThan(0n);
    // At its target now, within the smallest action: nothing was left uncovered.
    const after = await engineHealth(h, h.alpha, account);
    expect(after.equity).toBeGreaterThan(after.maintenance);
    expect(targetGap(after)).toBeLessThan(defaultPolicySettings.minAction);
    const [row] = await ledger.db.select().from(shortfalls).where(eq(shortfalls.id, shortfallIdOfReport(shortfall)));
    const last = row?.detail['lastDecision'] as { reason?: string; uncovered?: string } | undefined;
    expect(['below the smallest action', 'at its target']).toContain(last?.reason);
    expect(BigInt(last?.uncovered ?? '0')).toBe(0n);
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

  const costOf = (world: AccountWorld, chain: ManifestChain, transport: string) => {
    const route = world.sources.find((s) => s.kind === 'collateral' && s.chainId === chain.chainId)?.routes.find((r) => r.transport === transport);
    if (!route) throw new Error(`no collateral route from ${chain.key} over ${transport}`);
    return route.fixedCostUsd;
  };
  /** The core's price of waiting for this shortfall: per USD still needed, times the need. */
  const riskPerSecond = defaultPolicySettings.riskPerSecondPerUsd * usdOf(required);

  /**
   * One shortfall of trader 5 on alpha settled while gas on `dear` costs 50 gwei (put back
   * after): only `cheap`'s surplus moves, credited on alpha, and reconciliation agrees.
   */
  async function settleWhileGasIsDearOn(params: { dear: ManifestChain; cheap: ManifestChain }) {
    const { dear, cheap } = params;
    const source = chainWorld(NATIVE_USD);
    const shortfall = await report(account, '250');
    const usual = await source.worldFor(onAlpha(account));
    const usualGasPrice = await h.relayerOn(dear).public.getGasPrice();
    const usualBaseFee = await nextBaseFee(h, dear);
    const before = { alpha: await collateralOf(h, h.alpha, account), cheap: await collateralOf(h, cheap, account), dear: await collateralOf(h, dear, account) };
    const supplyBefore = await h.totalSupply();

    const leg = await withBaseFee(h, dear, DEAR_BASE_FEE, async () => {
      expect(await h.relayerOn(dear).public.getGasPrice()).toBe(usualGasPrice - usualBaseFee + DEAR_BASE_FEE);
      // Trader 5 has no position on alpha: its surplus on the two other chains is all there is.
      const candidates = await source.worldFor(onAlpha(account));
      expect(candidates.sources.flatMap((s) => s.routes.map((r) => `${s.kind}:${s.key}:${r.transport}`)).sort()).toEqual(
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
      // The core sees one option per chain, and `cheap`'s, wait included, is the cheaper.
      const options = policyOptions({ snapshot: snapshotOf(account, candidates, required), riskPerSecond, needUsd: usdOf(required) }).map(({ option }) => option);
      const [fromCheap, fromDear] = [cheap, dear].map((chain) => options.find((o) => o.id.startsWith(`collateral:${chain.key}:`)));
      if (!fromCheap || !fromDear) throw new Error(`offered ${options.map((o) => o.id).join(', ')}`);
      expect(options).toHaveLength(2);
      const price = (o: { fixedCost: number; latency: number }) => o.fixedCost + riskPerSecond * o.latency;
      expect(price(fromCheap)).toBeLessThan(price(fromDear));

      const recorded = await settle({ report: shortfall, worldSource: source });
      expect(recorded.map((l) => [l.kind, l.sourceChainId, l.destinationChainId, l.transport, l.status, l.amount])).toEqual([
        ['collateral', cheap.chainId, h.alpha.chainId, fromCheap.id.split(':')[2], 'credited', required],
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
