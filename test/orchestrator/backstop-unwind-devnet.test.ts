/**
 * Issue 14: a backstop that absorbed during a crash unwinds over several blocks, each trade
 * within the engine's per-block impact budget, and the ledger's book says what the chain says:
 * the same trades, the same realised PnL, the same inventory left. On the same chains: the node
 * reads a market's auction and per-block cap into the core's snapshot, runs an auction leg the
 * core decided (startAuction), a keeper takes the lot, and the leg is credited with what the
 * chain's auction events say.
 */
import { eq } from 'drizzle-orm';
import { maxUint256, parseEventLogs, type Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import { DEVNET_AUCTION } from '../../chains/devnet/protocol.js';
import type { SeedFile } from '../../chains/devnet/seed.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { price, usd } from '../../chains/protocol/units.js';
import type { Leg } from '../../chains/protocol/legs.js';
import { Signer } from '../../chains/signer.js';
import { backstopUnwinds, episodeStates, reconciledLegs, getLeg, listLegEvents, recordSettlement, recordShortfall, type LedgerHandle } from '../../db/index.js';
import { readReport } from '../../db/reports/read-report.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../relayer/execution/execution-context.js';
import { sendLegStep } from '../../relayer/execution/send-leg.js';
import { unwindBackstops } from '../../relayer/orchestrator/backstop-unwinder.js';
import { ChainWorld } from '../../relayer/orchestrator/chain-world.js';
import { reconcile } from '../../relayer/reconcile/reconcile.js';
import { defaultPolicySettings } from '../../relayer/orchestrator/fixed-world.js';
import { revisionPlanner } from '../../relayer/orchestrator/revision-planner.js';
import { shortfallRecord, shortfallReportSchema, type ShortfallReport } from '../../relayer/orchestrator/shortfall-report.js';
import { ETH, ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { registerDevnetChains } from './support/devnet-settlement.js';

/**
 * A 3 ETH long on beta that the backstop takes over once ETH falls; another (trader 3) the node
 * auctions after a further fall, and a keeper with margin and no position (trader 4) that takes it.
 */
const SEED: SeedFile = {
  accounts: [
    { trader: 2, chain: 'beta', deposit: '1000', positions: [{ market: 'ETH-USD', size: '3' }] },
    { trader: 3, chain: 'beta', deposit: '1000', positions: [{ market: 'ETH-USD', size: '3' }] },
    { trader: 4, chain: 'beta', deposit: '100000', positions: [] },
  ],
};
/** 5 bps of pool move per block: with the devnet's depth, a fraction of the absorbed long per block. */
const IMPACT_BPS = 5n;

let h: ProtocolHarness;
let ledger: LedgerHandle;
let cleanupLedger: () => Promise<void>;
let context: ExecutionContext;

beforeAll(async () => {
  h = await ProtocolHarness.start();
  ({ ledger, cleanup: cleanupLedger } = await createMigratedLedger());
  await registerDevnetChains(ledger.db, h);
  context = devnetExecutionContext({ manifest: h.manifest, transports: h.transports, ledger: ledger.db, actor: 'test-node' });
  await h.seed(SEED);
}, 120_000);

afterAll(async () => {
  await cleanupLedger?.();
  await h?.stop();
});

describe('unwinding what the backstop absorbed', () => {
  it('sells it over several blocks within the budget, and the ledger books the chain’s trades and PnL', async () => {
    const { alpha, beta } = h;
    const account = traderAddress(2);
    // ETH to 2,842: E = 1,000 - 3 x 158 = 526 < IM 852.6: the backstop may take the long over.
    await pushPrice({ signer: h.deployerOn(beta), feed: h.feedOf(beta, ETH), price: price('2842') });
    const allowed = await h.maxAbsorb(beta, account, ETH);
    expect(allowed).toBeGreaterThan(0n);
    const leg: Leg = { kind: 'liquidity', legId: h.newLegId(), account, amount: usd('600'), market: ETH, size: allowed, deadline: await h.deadline(alpha) };
    await h.transports.wormhole.deliver(await h.send({ transport: h.transports.wormhole, from: alpha, to: beta, leg }));
    // What absorbUpTo took at delivery (the engine's cap then, up to the size asked).
    const absorbed = await h.position(beta, beta.contracts.vault, ETH);
    expect(absorbed.size).toBeGreaterThan(0n);
    expect(absorbed.size).toBeLessThanOrEqual(allowed);
    await h.deployerOn(beta).write({ address: beta.contracts.marginEngine, abi: marginEngineAbi, functionName: 'setMarketLimits', args: [ETH, { maxNotionalPerBlock: usd('1000000'), unwindImpactBps: IMPACT_BPS }], label: 'MarginEngine' });

    // Each run trades at most one block's budget; anvil mines a block per transaction.
    const sizes: bigint[] = [];
    for (let run = 0; run < 40 && (await h.position(beta, beta.contracts.vault, ETH)).size > 0n; run++) {
      const results = await unwindBackstops({ context, minTrade: usd('1') / 100n });
      const onBeta = results.find((r) => r.chainId === beta.chainId);
      expect(onBeta?.refused).toEqual([]);
      sizes.push(...(onBeta?.trades ?? []).map((trade) => trade.size));
    }
    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes.reduce((a, b) => a + b, 0n)).toBe(absorbed.size);
    expect((await h.position(beta, beta.contracts.vault, ETH)).size).toBe(0n);

    // What the chain logged, trade by trade, against what the ledger booked.
    const logs = await h.relayerOn(beta).public.getContractEvents({ address: beta.contracts.marginEngine, abi: marginEngineAbi, eventName: 'BackstopUnwound', fromBlock: 0n });
    const chainTrades = logs.map((log) => [log.transactionHash, log.args.size, log.args.realizedPnl, log.args.proceeds]);
    const booked = (await ledger.db.select().from(backstopUnwinds)).sort((a, b) => Number(a.blockNumber - b.blockNumber));
    expect(booked.map((row) => [row.txHash, row.size, row.realizedPnl, row.proceeds])).toEqual(chainTrades);
    // Each within the budget: the pool's price after the trade no more than 5 bps below the oracle
    // (to the price's last unit, which the engine's integer square root may round away).
    for (const log of parseEventLogs({ abi: marginEngineAbi, eventName: 'BackstopUnwound', logs })) {
      expect((log.args.poolPrice + 1n) * 10_000n).toBeGreaterThanOrEqual(log.args.oraclePrice * (10_000n - IMPACT_BPS));
    }
    const realized = logs.reduce((sum, log) => sum + (log.args.realizedPnl ?? 0n), 0n);
    const [row, ...others] = (await readReport(ledger.db, 'backstop-inventory')).rows;
    expect(others).toEqual([]);
    expect(row).toMatchObject({ chain: 'beta', market_id: ETH.toLowerCase(), size: '0', unwinds: logs.length, unwound_size: String(absorbed.size) });
    expect(row?.realized_pnl_usd).toBe((Number(realized) / 1e6).toFixed(6));
    expect(row?.unrealized_pnl_usd).toBe('0.000000');
  }, 120_000);
});

describe('an auction leg', () => {
  it('starts the auction the core decided, follows it to the keeper’s take, and is credited as the chain shows', async () => {
    const { beta } = h;
    const account = traderAddress(3);
    const chainKeys = new Map([...context.chains.values()].map((chain) => [chain.chainId, chain.key]));
    // ETH to 2,750: E = 1,000 - 3 x 250 = 250 < MM 412.5: below maintenance, auctionable.
    await pushPrice({ signer: h.deployerOn(beta), feed: h.feedOf(beta, ETH), price: price('2750') });
    const world = new ChainWorld({ context, nativeUsd: () => 1, latencySeconds: { layerzero: 30, wormhole: 60 }, gas: { source: 250_000n, destination: 250_000n }, auctions: true });
    const request = { chainId: beta.chainId, account, targetFraction: (_: string, m: number) => m * 1.2, sigma: () => 0.0002 };
    const read = await world.worldFor(request);
    const [position] = read.positions;
    // The devnet's auction terms and the cap the first test set (1,000,000 USD a block, none used in the block read).
    expect(position?.auction).toEqual({ buf: 1.05, cut: 0.99, cusp: 0.92, stepSeconds: Number(DEVNET_AUCTION.step), tailSeconds: Number(DEVNET_AUCTION.tail) });
    expect(position?.blockNotionalLeft).toBe(usd('1000000'));
    // Auctions off in the node config: the core sees none.
    expect((await new ChainWorld({ context, nativeUsd: () => 1, latencySeconds: { layerzero: 30, wormhole: 60 }, gas: { source: 250_000n, destination: 250_000n } }).worldFor(request)).positions[0]?.auction).toBeUndefined();

    // The episode, and a core (injected: the real one's auction option may not be there yet) that auctions the whole position.
    const head = await h.relayerOn(beta).public.getBlockNumber();
    const report: ShortfallReport = { chainId: beta.chainId, engine: beta.contracts.marginEngine, account, episode: '1', reason: 'breach', equity: read.health.equity.toString(), maintenance: read.health.maintenance.toString(), requiredAmount: '500000000', mEff: 0.05, detectedBlock: head.toString(), detectedAt: new Date().toISOString() };
    const { shortfall } = await recordShortfall(ledger.db, shortfallRecord(shortfallReportSchema.parse(report)));
    const state = (await episodeStates(ledger.db, [shortfall.id])).get(shortfall.id);
    if (!state || !position) throw new Error('no episode or no position');
    let legIds: readonly Hash[] = [];
    const planner = revisionPlanner({
      worldSource: world,
      policy: { ...defaultPolicySettings, auctionTakerMargin: 0.01 },
      chainKeys,
      recordPlans: async (record) => {
        const recorded = await recordSettlement(ledger.db, record);
        legIds = recorded.legIds;
        return recorded;
      },
      recordDecision: async () => {},
      decide: (snapshot) => {
        const lot = snapshot.positions[0];
        if (!lot) throw new Error('no position in the snapshot');
        return { kind: 'home', reason: 'auction', need: 500_000_000n, uncovered: 0n, legs: [{ kind: 'auction', optionId: `auction:${beta.key}`, sourceChainId: beta.chainId, amount: lot.notional, relief: 500_000_000n, latencySeconds: 30, marketId: lot.marketId }] };
      },
    });
    await planner.planNext({ shortfallId: shortfall.id, state });
    const [legId] = legIds;
    if (!legId) throw new Error('the revision has no leg');
    expect((await getLeg(ledger.db, legId))?.kind).toBe('auction');

    // The node starts it; with no taker yet the job retries, the leg in flight.
    await expect(sendLegStep(context, legId)).rejects.toThrow('waiting for takers');
    const auction = await h.relayerOn(beta).public.readContract({ address: beta.contracts.marginEngine, abi: marginEngineAbi, functionName: 'auctionOf', args: [account, ETH] });
    expect(auction.lot).toBe((await h.position(beta, account, ETH)).size);
    expect((await getLeg(ledger.db, legId))?.status).toBe('submitted');
    const inFlight = (await episodeStates(ledger.db, [shortfall.id])).get(shortfall.id);
    expect(inFlight?.inFlightRelief).toBe(500_000_000n);
    // A retry does not start a second auction, and while it is open the world offers none (the engine would refuse it).
    await expect(sendLegStep(context, legId)).rejects.toThrow('waiting for takers');
    expect((await world.worldFor(request)).positions[0]?.auction).toBeUndefined();

    // The keeper takes the lot (the engine cuts it to what restores maintenance, or all of it).
    const keeper = new Signer(h.endpointOf(beta), devnetAccount(devnetRoles.firstTrader + 4));
    await keeper.write({ address: beta.contracts.marginEngine, abi: marginEngineAbi, functionName: 'take', args: [account, ETH, auction.lot, maxUint256], label: 'MarginEngine' });
    await sendLegStep(context, legId);

    const leg = await getLeg(ledger.db, legId);
    expect(leg?.status).toBe('credited');
    const engine = { address: beta.contracts.marginEngine, abi: marginEngineAbi, args: { account, market: ETH }, fromBlock: head } as const;
    const client = h.relayerOn(beta).public;
    const started = await client.getContractEvents({ ...engine, eventName: 'AuctionStarted' });
    const taken = await client.getContractEvents({ ...engine, eventName: 'AuctionTaken' });
    const closed = await client.getContractEvents({ ...engine, eventName: 'AuctionClosed' });
    expect(started).toHaveLength(1);
    expect(taken).toHaveLength(1);
    expect(closed).toHaveLength(1);
    const credited = (await listLegEvents(ledger.db, legId)).find((event) => event.toStatus === 'credited');
    const take = taken[0];
    if (!take) throw new Error('no take');
    expect(credited?.txHash).toBe(take.transactionHash);
    expect(credited?.amount).toBe(((take.args.size ?? 0n) * (take.args.oraclePrice ?? 0n)) / 10n ** 20n);
    expect(credited?.detail).toMatchObject({ auctionId: String(started[0]?.args.id), startTx: started[0]?.transactionHash, takes: [{ tx: take.transactionHash, taker: keeper.address, size: String(take.args.size), price: String(take.args.price) }] });
    expect(leg?.destinationTxHash).toBe(take.transactionHash);

    // Reconciliation takes the credited auction leg as clean: its recorded take is on chain.
    const tokens = new Map([...h.manifest.chains].map((chain) => [chain.chainId, chain.contracts.collateralToken]));
    const run = await reconcile({ context, tokens, slaSeconds: 900, refundExpired: false, redriveStuck: false });
    expect(run.findings.filter((finding) => finding.legId === legId)).toEqual([]);
    const reconciledRows = await ledger.db.select().from(reconciledLegs).where(eq(reconciledLegs.legId, legId));
    expect(reconciledRows.map((row) => row.runId)).toEqual([run.runId]);
  }, 120_000);
});
