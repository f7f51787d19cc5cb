/**
 * Issue 14: a backstop that absorbed during a crash unwinds over several blocks, each trade
 * within the engine's per-block impact budget, and the ledger's book says what the chain says:
 * the same trades, the same realised PnL, the same inventory left.
 */
import { parseEventLogs } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import type { SeedFile } from '../../chains/devnet/seed.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { price, usd } from '../../chains/protocol/units.js';
import type { Leg } from '../../chains/protocol/legs.js';
import { backstopUnwinds, type LedgerHandle } from '../../db/index.js';
import { readReport } from '../../db/reports/read-report.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../relayer/execution/execution-context.js';
import { unwindBackstops } from '../../relayer/orchestrator/backstop-unwinder.js';
import { ETH, ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { registerDevnetChains } from './support/devnet-settlement.js';

/** A 3 ETH long on beta that the backstop takes over once ETH falls. */
const SEED: SeedFile = { accounts: [{ trader: 2, chain: 'beta', deposit: '1000', positions: [{ market: 'ETH-USD', size: '3' }] }] };
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
