import { parseEventLogs, type Hash, type TransactionReceipt } from 'viem';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { VALUE_SCALE } from '../../chains/protocol/units.js';
import { isRevert, shortReason } from '../../chains/signer.js';
import { RelayerError } from '../errors.js';
import type { Leg, LegEvidence, LegStatus } from '../../db/index.js';
import { advanceLeg } from './advance-leg.js';
import { submitHomeLeg } from './submit-home-leg.js';
import { chainOf, type ExecutionContext } from './execution-context.js';

const abs = (value: bigint): bigint => (value < 0n ? -value : value);

/**
 * A `local` leg: a partial liquidation on the account's own chain through the market's AMM,
 * by the node as liquidator, of the size the decision core planned (less if the engine caps it now).
 * One transaction does what a cross-chain leg does in several, so its evidence stands for
 * every step from `sent` to `credited`; the amount recorded is the notional closed.
 * A retry looks for the node's own `Liquidated` event first: it never liquidates twice.
 */
export async function executeLocalLeg(context: ExecutionContext, leg: Leg): Promise<void> {
  const chain = chainOf(context, leg.destinationChainId);
  const market = leg.marketId;
  if (!market) throw new RelayerError(`local leg ${leg.id} names no market`);
  const fromBlock = await submitHomeLeg(context, chain, leg);
  if (fromBlock === undefined) return;
  const [previous] = await chain.signer.public.getContractEvents({
    address: chain.marginEngine,
    abi: marginEngineAbi,
    eventName: 'Liquidated',
    args: { account: leg.account, market, liquidator: chain.signer.address },
    fromBlock,
  });
  let receipt: TransactionReceipt;
  if (previous?.transactionHash) {
    receipt = await chain.signer.public.getTransactionReceipt({ hash: previous.transactionHash });
  } else {
    const allowed = await chain.signer.public.readContract({ address: chain.marginEngine, abi: marginEngineAbi, functionName: 'maxLiquidationSize', args: [leg.account, market] });
    // Exactly the planned size, or less if the engine caps it now: never the engine's maximum by default.
    const size = abs(leg.positionSize) < abs(allowed) ? leg.positionSize : allowed;
    try {
      if (size === 0n) throw new RelayerError(`account ${leg.account} is not liquidatable on chain ${chain.chainId}${leg.positionSize === 0n ? ' (the leg plans no size)' : ''}`);
      receipt = await chain.signer.write({ address: chain.marginEngine, abi: marginEngineAbi, functionName: 'liquidate', args: [leg.account, market, size], label: 'MarginEngine' });
    } catch (error) {
      if (!(error instanceof RelayerError && !error.retryable) && !isRevert(error)) throw new RelayerError(`liquidating for local leg ${leg.id} on chain ${chain.chainId} failed: ${shortReason(error)}`, { cause: error, retryable: true });
      // The head it failed at: reconciliation confirms that nothing was liquidated once the chain is final past it.
      const head = await chain.signer.public.getBlockNumber({ cacheTime: 0 });
      await advanceLeg(context, { legId: leg.id, from: 'submitted', to: 'failed', error: shortReason(error), evidence: { chainId: chain.chainId, blockNumber: head } });
      throw new RelayerError(`local leg ${leg.id} refused: ${shortReason(error)}`);
    }
  }
  await recordLiquidation(context, { leg, receipt, chainId: chain.chainId });
}

async function recordLiquidation(context: ExecutionContext, params: { leg: Leg; receipt: TransactionReceipt; chainId: number }): Promise<void> {
  const { leg, receipt, chainId } = params;
  const event = parseEventLogs({ abi: marginEngineAbi, eventName: 'Liquidated', logs: receipt.logs })[0];
  if (!event) throw new RelayerError(`transaction ${receipt.transactionHash} liquidated nothing`);
  const evidence: LegEvidence = {
    chainId,
    txHash: receipt.transactionHash,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
    amount: (abs(event.args.size) * event.args.oraclePrice) / VALUE_SCALE,
    fee: receipt.gasUsed * receipt.effectiveGasPrice,
    detail: { size: event.args.size.toString(), slippage: event.args.slippage.toString(), penalty: event.args.penalty.toString() },
  };
  const steps: [LegStatus, LegStatus][] = [
    ['submitted', 'sent'],
    ['sent', 'verified'],
    ['verified', 'delivered'],
    ['delivered', 'credited'],
  ];
  for (const [from, to] of steps) await advanceLeg(context, { legId: leg.id as Hash, from, to, evidence });
}
