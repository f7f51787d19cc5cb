/**
 * The backstop's unwind worker (issue 14): on each chain, reads what the backstop (the vault)
 * holds in every market, asks the decision core what to sell or buy back now (`decideUnwind`,
 * within the engine's per-block impact budget), sends it through `Vault.unwindBackstop`, and
 * records in the ledger every trade (from the engine's `BackstopUnwound` log) and a mark of the
 * inventory after, so `report_backstop_inventory` shows realised and unrealised PnL. A run is one
 * block's worth of trading per chain; run on a schedule sized to the pools' recovery, it unwinds
 * over many blocks. A trade the chain refuses (the budget was used meanwhile, the engine paused)
 * is left to the next run; nothing is recorded for it.
 */
import { parseEventLogs, type Hash, type Hex, type TransactionReceipt } from 'viem';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { vaultAbi } from '../../chains/contracts/out/Vault.js';
import { abs, VALUE_SCALE } from '../../chains/protocol/units.js';
import { recordBackstopMarks, recordBackstopUnwind, type BackstopMark } from '../../db/index.js';
import { errorMessage, RelayerError } from '../errors.js';
import type { ExecutionChain, ExecutionContext } from '../execution/execution-context.js';
import { decideUnwind, type UnwindPosition } from '../policy/index.js';

const BPS = 10_000n;
/** The ratio the core gives, as a price multiplier at this many decimals. */
const RATIO_SCALE = 100_000_000n;

export interface UnwindRunResult {
  readonly chainId: number;
  /** Transactions that traded, with the market and the signed size taken off the position. */
  readonly trades: readonly { readonly marketId: Hex; readonly size: bigint; readonly txHash: Hash }[];
  /** Trades the chain refused this run (left to the next). */
  readonly refused: readonly { readonly marketId: Hex; readonly reason: string }[];
}

interface Held {
  readonly marketId: Hex;
  readonly size: bigint;
  readonly entryPrice: bigint;
  readonly price: bigint;
  readonly quoteReserve: bigint;
  readonly impactBps: bigint;
  readonly sellLeft: bigint;
  readonly buyLeft: bigint;
  readonly paused: boolean;
}

/** One run over every chain of the context; chains are independent, so one failing does not stop the others. */
export async function unwindBackstops(params: { context: ExecutionContext; minTrade: bigint }): Promise<UnwindRunResult[]> {
  const runs = await Promise.allSettled([...params.context.chains.values()].map((chain) => unwindOnChain({ ...params, chain })));
  const failed = runs.flatMap((run) => (run.status === 'rejected' ? [run.reason as unknown] : []));
  if (failed.length > 0) throw new RelayerError(`unwinding the backstop failed on ${failed.length} chain(s): ${failed.map(errorMessage).join('; ')}`, { cause: failed[0], retryable: true });
  return runs.flatMap((run) => (run.status === 'fulfilled' ? [run.value] : []));
}

async function unwindOnChain(params: { context: ExecutionContext; chain: ExecutionChain; minTrade: bigint }): Promise<UnwindRunResult> {
  const { context, chain } = params;
  const held = await readHeld(chain);
  const trades: { marketId: Hex; size: bigint; txHash: Hash }[] = [];
  const refused: { marketId: Hex; reason: string }[] = [];
  const live = held.filter((h) => h.size !== 0n && !h.paused);
  const positions: UnwindPosition[] = live.map((h) => ({
    marketId: h.marketId,
    notional: (abs(h.size) * h.price) / VALUE_SCALE,
    long: h.size > 0n,
    // The engine's AMM is re-centred on the oracle for every trade: its price ratio is 1.
    pool: { quoteReserve: h.quoteReserve, priceRatio: 1, fee: 0 },
    budget: Number(h.impactBps) / Number(BPS),
  }));
  for (const order of decideUnwind({ positions, minTrade: params.minTrade })) {
    const h = live.find((candidate) => candidate.marketId === order.marketId);
    if (!h) continue;
    // The core's notional as a size (all of it when the core sells all it holds: no dust left by
    // the rounding), within what the engine still allows this block and what is held.
    const wanted = order.notional >= (abs(h.size) * h.price) / VALUE_SCALE ? abs(h.size) : (order.notional * VALUE_SCALE) / h.price;
    const amount = [wanted, order.sell ? h.sellLeft : h.buyLeft, abs(h.size)].reduce((a, b) => (a < b ? a : b));
    if (amount === 0n) continue;
    const size = order.sell ? amount : -amount;
    const ratio = BigInt(Math.round(order.worstPriceRatio * Number(RATIO_SCALE)));
    const limitPrice = order.sell ? (h.price * ratio) / RATIO_SCALE : (h.price * ratio + RATIO_SCALE - 1n) / RATIO_SCALE;
    let receipt: TransactionReceipt;
    try {
      receipt = await chain.signer.write({ address: chain.vault, abi: vaultAbi, functionName: 'unwindBackstop', args: [h.marketId, size, limitPrice], label: 'Vault' });
    } catch (error) {
      if (error instanceof RelayerError && error.retryable) throw error;
      refused.push({ marketId: h.marketId, reason: errorMessage(error) });
      continue;
    }
    await recordTrades(context, chain, receipt);
    trades.push({ marketId: h.marketId, size, txHash: receipt.transactionHash });
  }
  // The inventory after this run's trades, for the report's unrealised PnL (and a flat position once unwound).
  const after = trades.length > 0 ? await readHeld(chain) : held;
  const block = await chain.signer.public.getBlockNumber({ cacheTime: 0 });
  const markedAt = new Date();
  const marks: BackstopMark[] = after
    .filter((h) => h.size !== 0n || trades.some((trade) => trade.marketId === h.marketId))
    .map((h) => ({ chainId: chain.chainId, marketId: h.marketId, blockNumber: block, size: h.size, entryPrice: h.entryPrice, oraclePrice: h.price, unrealizedPnl: (h.size * (h.price - h.entryPrice)) / VALUE_SCALE, markedAt }));
  await recordBackstopMarks(context.ledger, marks);
  return { chainId: chain.chainId, trades, refused };
}

/** What the backstop holds in each market of the chain's engine, with the price, pool and budget left this block. */
async function readHeld(chain: ExecutionChain): Promise<Held[]> {
  const client = chain.signer.public;
  const engine = { address: chain.marginEngine, abi: marginEngineAbi } as const;
  const markets = await client.readContract({ ...engine, functionName: 'marketIds' });
  return Promise.all(
    markets.map(async (marketId): Promise<Held> => {
      const [[size, entryPrice], [price], [, quoteReserve], limits] = await Promise.all([
        client.readContract({ ...engine, functionName: 'positionOf', args: [chain.vault, marketId] }),
        client.readContract({ ...engine, functionName: 'marketPrice', args: [marketId] }),
        client.readContract({ ...engine, functionName: 'ammReserves', args: [marketId] }),
        client.readContract({ ...engine, functionName: 'blockLimits', args: [marketId] }),
      ]);
      return { marketId, size, entryPrice, price, quoteReserve, impactBps: limits.unwindImpactBps, sellLeft: limits.unwindSellLeft, buyLeft: limits.unwindBuyLeft, paused: limits.paused };
    }),
  );
}

/** Every `BackstopUnwound` of the transaction, into the ledger (once per log). */
async function recordTrades(context: ExecutionContext, chain: ExecutionChain, receipt: TransactionReceipt): Promise<void> {
  const block = await chain.signer.public.getBlock({ blockNumber: receipt.blockNumber });
  const unwoundAt = new Date(Number(block.timestamp) * 1000);
  for (const log of parseEventLogs({ abi: marginEngineAbi, eventName: 'BackstopUnwound', logs: receipt.logs })) {
    const args = log.args;
    await recordBackstopUnwind(context.ledger, {
      chainId: chain.chainId,
      txHash: receipt.transactionHash,
      logIndex: log.logIndex,
      blockNumber: receipt.blockNumber,
      marketId: args.market,
      size: args.size,
      oraclePrice: args.oraclePrice,
      executionPrice: args.executionPrice,
      poolPrice: args.poolPrice,
      proceeds: args.proceeds,
      slippage: args.slippage,
      realizedPnl: args.realizedPnl,
      unwoundAt,
    });
  }
}
