import { and, eq, gte, inArray } from 'drizzle-orm';
import { parseEventLogs, type Hash } from 'viem';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { chains, legEvents, legs, reconciledLegs, refundRefusal, type Leg } from '../../db/index.js';
import type { ExecutionChain, ExecutionContext } from '../execution/execution-context.js';
import type { VaultView } from './vault-ledger-view.js';

/** Each chain's head, read before the vaults are: a view read after it covers at least these blocks. */
export async function chainHeads(context: ExecutionContext): Promise<Map<number, bigint>> {
  const chainsServed = [...context.chains.values()];
  const heads = await Promise.all(chainsServed.map((chain) => chain.signer.public.getBlockNumber({ cacheTime: 0 })));
  return new Map(chainsServed.map((chain, i) => [chain.chainId, heads[i] ?? 0n]));
}

/** Whether a leg failed before its source burned anything: nothing is owed back, nothing can arrive. */
export const failedUnsent = (leg: Leg): boolean => leg.status === 'failed' && refundRefusal(leg.failedFrom) !== undefined;

/**
 * The legs that failed before their source burned anything (refused at sending, a local
 * liquidation refused), confirmed against the chain, for the run's reconciled legs: nothing left
 * the source and nothing can still land from a send signed before the failure, because
 * - a cross-chain leg has no `LegSent` for its id on its source vault, and
 * - a local leg has no liquidation of its account and market by the node since it was submitted
 *   that no other leg of the ledger records,
 * in what the chain shows up to a block at least its finality depth (the ledger's confirmations
 * for it) past the block the leg failed at. One not yet that deep is confirmed by a later run.
 * Credited local legs are confirmed by their liquidation: the transaction the ledger recorded is
 * on chain, succeeded, and liquidated the leg's account and market by the node; credited auction
 * legs by their closing take: the recorded transaction took from an auction of the leg's account
 * and market. (A failed auction leg never leaves `submitted`: it is confirmed like a refused send.)
 */
export async function confirmLegsWithoutTransfer(params: { context: ExecutionContext; ledgerLegs: readonly Leg[]; view: VaultView; heads: ReadonlyMap<number, bigint> }): Promise<Hash[]> {
  const { context, ledgerLegs, view, heads } = params;
  const unsent = ledgerLegs.filter((leg) => failedUnsent(leg) && (leg.kind === 'local' || !view.sent.has(leg.id)));
  const credited = ledgerLegs.filter((leg) => (leg.kind === 'local' || leg.kind === 'auction') && leg.status === 'credited');
  if (unsent.length === 0 && credited.length === 0) return [];
  const confirmations = new Map((await context.ledger.select({ chainId: chains.chainId, confirmations: chains.confirmations }).from(chains)).map((c) => [c.chainId, BigInt(c.confirmations)]));
  const blocks = await legBlocks(context, unsent);
  const known = await reconciledSinceLastChange(context, credited);
  // Every liquidation a leg of the ledger records (statuses not read here included: a later revision's).
  const claimed = new Set(
    (await context.ledger.select({ tx: legs.sourceTxHash }).from(legs).where(and(inArray(legs.kind, ['local']), inArray(legs.status, ['sent', 'verified', 'delivered', 'credited'])))).flatMap((row) =>
      row.tx ? [row.tx.toLowerCase()] : [],
    ),
  );
  const confirmed: Hash[] = [];
  for (const leg of unsent) {
    const chainId = leg.kind === 'local' ? leg.destinationChainId : leg.sourceChainId;
    const chain = context.chains.get(chainId);
    const head = heads.get(chainId);
    if (!chain || head === undefined) continue;
    const { submitted, failed } = blocks.get(leg.id) ?? {};
    if (head - (confirmations.get(chainId) ?? 1n) < (failed ?? submitted ?? 0n)) continue;
    if (leg.kind === 'local' && (await nodeLiquidations(chain, leg, submitted ?? 0n, head)).some((tx) => !claimed.has(tx))) continue;
    confirmed.push(leg.id);
  }
  // A liquidation once confirmed is not read again until the leg changes.
  for (const leg of credited) if (known.has(leg.id) || (await closedAsRecorded(context, leg))) confirmed.push(leg.id);
  return confirmed;
}

/** The legs among `candidates` that a run reconciled after their last change. */
async function reconciledSinceLastChange(context: ExecutionContext, candidates: readonly Leg[]): Promise<Set<Hash>> {
  if (candidates.length === 0) return new Set();
  const rows = await context.ledger
    .selectDistinct({ legId: reconciledLegs.legId })
    .from(reconciledLegs)
    .innerJoin(legs, eq(legs.id, reconciledLegs.legId))
    .where(and(inArray(reconciledLegs.legId, candidates.map((leg) => leg.id)), gte(reconciledLegs.reconciledAt, legs.updatedAt)));
  return new Set(rows.map((row) => row.legId));
}

/** The blocks each leg was submitted and failed at (its events' evidence), where they were recorded. */
async function legBlocks(context: ExecutionContext, failed: readonly Leg[]): Promise<Map<Hash, { submitted?: bigint; failed?: bigint }>> {
  const blocks = new Map<Hash, { submitted?: bigint; failed?: bigint }>();
  if (failed.length === 0) return blocks;
  const rows = await context.ledger
    .select({ legId: legEvents.legId, toStatus: legEvents.toStatus, blockNumber: legEvents.blockNumber })
    .from(legEvents)
    .where(and(inArray(legEvents.legId, failed.map((leg) => leg.id)), inArray(legEvents.toStatus, ['submitted', 'failed'])));
  for (const row of rows) {
    if (row.blockNumber === null || (row.toStatus !== 'submitted' && row.toStatus !== 'failed')) continue;
    blocks.set(row.legId, { ...blocks.get(row.legId), [row.toStatus]: row.blockNumber });
  }
  return blocks;
}

/** Transactions in which the node liquidated the leg's account and market since the leg was submitted, up to `head`. */
async function nodeLiquidations(chain: ExecutionChain, leg: Leg, fromBlock: bigint, head: bigint): Promise<string[]> {
  if (!leg.marketId) return [];
  const logs = await chain.signer.public.getContractEvents({
    address: chain.marginEngine,
    abi: marginEngineAbi,
    eventName: 'Liquidated',
    args: { account: leg.account, market: leg.marketId, liquidator: chain.signer.address },
    fromBlock,
    toBlock: head,
  });
  return logs.map((log) => log.transactionHash.toLowerCase());
}

const same = (a: string, b: string | null) => a.toLowerCase() === b?.toLowerCase();

/**
 * Whether a credited home leg's recorded transaction succeeded and did what the leg says, on its
 * account and market: a local leg's liquidation by the node; an auction leg's take that closed
 * the auction.
 */
async function closedAsRecorded(context: ExecutionContext, leg: Leg): Promise<boolean> {
  const chain = context.chains.get(leg.destinationChainId);
  const tx = leg.destinationTxHash ?? leg.sourceTxHash;
  if (!chain || !tx) return false;
  const receipt = await chain.signer.public.getTransactionReceipt({ hash: tx }).catch(() => undefined);
  if (receipt?.status !== 'success') return false;
  const ours = (event: { address: string; args: { account: string; market: string } }) => same(event.address, chain.marginEngine) && same(event.args.account, leg.account) && same(event.args.market, leg.marketId);
  const logs = receipt.logs;
  if (leg.kind === 'auction') return parseEventLogs({ abi: marginEngineAbi, eventName: 'AuctionTaken', logs }).some(ours) && parseEventLogs({ abi: marginEngineAbi, eventName: 'AuctionClosed', logs }).some(ours);
  return parseEventLogs({ abi: marginEngineAbi, eventName: 'Liquidated', logs }).some((event) => ours(event) && same(event.args.liquidator, chain.signer.address));
}
