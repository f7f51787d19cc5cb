import type { Hash } from 'viem';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { VALUE_SCALE } from '../../chains/protocol/units.js';
import { isRevert, shortReason } from '../../chains/signer.js';
import { RelayerError } from '../errors.js';
import type { Leg, LegEvidence, LegStatus } from '../../db/index.js';
import { advanceLeg } from './advance-leg.js';
import { submitHomeLeg } from './submit-home-leg.js';
import { chainOf, type ExecutionChain, type ExecutionContext } from './execution-context.js';

const abs = (value: bigint): bigint => (value < 0n ? -value : value);

/** MarginEngine.AuctionEnd, in its order. */
const AUCTION_ENDS = ['Filled', 'Restored', 'Canceled'] as const;

/**
 * An `auction` leg: a Dutch auction of the planned lot of the account's position on its own chain
 * (MarginEngine.startAuction), which any keeper may take. The leg is `submitted` from before the
 * start transaction until the auction ends: nothing leaves any chain, so it can only be credited
 * (its takes, read from the chain) or fail without a refund. The job retries while the auction is
 * open (in flight to the decision core until then); a fill or a restoring take credits the leg with
 * the closing take's evidence and the notional taken; an auction canceled, or still open past the
 * leg's deadline (its SLA: the next revision may close locally), fails it.
 * A retry looks for the node's own `AuctionStarted` since `submitted` first: it never starts twice.
 */
export async function executeAuctionLeg(context: ExecutionContext, leg: Leg): Promise<void> {
  const chain = chainOf(context, leg.destinationChainId);
  if (!leg.marketId) throw new RelayerError(`auction leg ${leg.id} names no market`);
  const fromBlock = await submitHomeLeg(context, chain, leg);
  if (fromBlock === undefined) return;
  const started = (await startedByNode(chain, leg, leg.marketId, fromBlock)) ?? (await startAuction(context, chain, leg, leg.marketId));
  await followAuction(context, { chain, leg, market: leg.marketId, started });
}

interface StartedAuction {
  readonly id: bigint;
  readonly txHash: Hash;
  readonly blockNumber: bigint;
}

async function startedByNode(chain: ExecutionChain, leg: Leg, market: Hash, fromBlock: bigint): Promise<StartedAuction | undefined> {
  const logs = await chain.signer.public.getContractEvents({ address: chain.marginEngine, abi: marginEngineAbi, eventName: 'AuctionStarted', args: { account: leg.account, market }, fromBlock });
  const ours = logs.find((log) => log.args.keeper?.toLowerCase() === chain.signer.address.toLowerCase());
  if (!ours || ours.args.id === undefined) return undefined;
  return { id: ours.args.id, txHash: ours.transactionHash, blockNumber: ours.blockNumber };
}

async function startAuction(context: ExecutionContext, chain: ExecutionChain, leg: Leg, market: Hash): Promise<StartedAuction> {
  const [held] = await chain.signer.public.readContract({ address: chain.marginEngine, abi: marginEngineAbi, functionName: 'positionOf', args: [leg.account, market] });
  // The planned lot, or all that is left of the position on its side.
  const size = held === 0n || held > 0n !== leg.positionSize > 0n ? 0n : abs(leg.positionSize) <= abs(held) ? leg.positionSize : held;
  try {
    if (size === 0n) throw new RelayerError(`account ${leg.account} holds nothing to auction in market ${market} on chain ${chain.chainId}`);
    const receipt = await chain.signer.write({ address: chain.marginEngine, abi: marginEngineAbi, functionName: 'startAuction', args: [leg.account, market, size], label: 'MarginEngine' });
    const started = await startedByNode(chain, leg, market, receipt.blockNumber);
    if (!started) throw new RelayerError(`transaction ${receipt.transactionHash} started no auction`);
    return started;
  } catch (error) {
    if (!(error instanceof RelayerError && !error.retryable) && !isRevert(error)) throw new RelayerError(`starting the auction of leg ${leg.id} on chain ${chain.chainId} failed: ${shortReason(error)}`, { cause: error, retryable: true });
    const head = await chain.signer.public.getBlockNumber({ cacheTime: 0 });
    await advanceLeg(context, { legId: leg.id, from: 'submitted', to: 'failed', error: shortReason(error), evidence: { chainId: chain.chainId, blockNumber: head } });
    throw new RelayerError(`auction leg ${leg.id} refused: ${shortReason(error)}`);
  }
}

/** Credits, fails or (while the auction is open within the deadline) leaves the leg for the next attempt. */
async function followAuction(context: ExecutionContext, params: { chain: ExecutionChain; leg: Leg; market: Hash; started: StartedAuction }): Promise<void> {
  const { chain, leg, market, started } = params;
  const client = chain.signer.public;
  const byId = { id: started.id, account: leg.account, market };
  const takes = await client.getContractEvents({ address: chain.marginEngine, abi: marginEngineAbi, eventName: 'AuctionTaken', args: byId, fromBlock: started.blockNumber });
  const [closed] = await client.getContractEvents({ address: chain.marginEngine, abi: marginEngineAbi, eventName: 'AuctionClosed', args: byId, fromBlock: started.blockNumber });
  const end = closed?.args.reason === undefined ? undefined : AUCTION_ENDS[closed.args.reason];
  if (closed && end !== 'Canceled') {
    const last = takes[takes.length - 1];
    if (!last) throw new RelayerError(`auction ${started.id} closed ${end} with no take`);
    const taken = takes.reduce((sum, take) => sum + (abs(take.args.size ?? 0n) * (take.args.oraclePrice ?? 0n)) / VALUE_SCALE, 0n);
    const receipt = await client.getTransactionReceipt({ hash: last.transactionHash });
    const evidence: LegEvidence = {
      chainId: chain.chainId,
      txHash: last.transactionHash,
      blockNumber: last.blockNumber,
      blockHash: last.blockHash,
      amount: taken,
      detail: {
        auctionId: started.id.toString(),
        startTx: started.txHash,
        end,
        takes: takes.map((take) => ({ tx: take.transactionHash, taker: take.args.taker, size: String(take.args.size), price: String(take.args.price), penalty: String(take.args.penalty), takerReward: String(take.args.takerReward) })),
        takeGas: (receipt.gasUsed * receipt.effectiveGasPrice).toString(),
      },
    };
    const steps: [LegStatus, LegStatus][] = [
      ['submitted', 'sent'],
      ['sent', 'verified'],
      ['verified', 'delivered'],
      ['delivered', 'credited'],
    ];
    for (const [from, to] of steps) await advanceLeg(context, { legId: leg.id, from, to, evidence });
    return;
  }
  const head = await client.getBlock({ blockTag: 'latest' });
  const expired = leg.deadline !== null && head.timestamp * 1000n > BigInt(leg.deadline.getTime());
  if (closed || expired) {
    const why = closed ? `auction ${started.id} was canceled (the account recovered)` : `auction ${started.id} was not filled by the leg's deadline`;
    await advanceLeg(context, { legId: leg.id, from: 'submitted', to: 'failed', error: why, evidence: { chainId: chain.chainId, blockNumber: head.number, detail: { auctionId: started.id.toString(), startTx: started.txHash, takes: takes.length } } });
    throw new RelayerError(`auction leg ${leg.id} failed: ${why}`);
  }
  throw new RelayerError(`auction ${started.id} of leg ${leg.id} is open on chain ${chain.chainId}: waiting for takers`, { retryable: true });
}
