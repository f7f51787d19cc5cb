import { decodeErrorResult, parseEventLogs, type Address, type Log, type TransactionReceipt } from 'viem';
import { expect } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { applyEngineLogs, emptyEngineState, latestFeedAnswers } from '../../chains/protocol/engine-log.js';
import { accountHealth } from '../../chains/protocol/health.js';
import { vaultCallAbi } from '../../chains/protocol/abi.js';
import type { Signer } from '../../chains/signer.js';

/** Expects a contract call to be refused with this custom error (as Signer reports it). */
export async function expectRevert(call: Promise<unknown>, errorName: string): Promise<void> {
  await expect(call).rejects.toThrow(new RegExp(`reverted with ${errorName}\\(`));
}

/**
 * A LayerZero delivery the vault refused for good: the call succeeds (the path stays open) and
 * the vault logs `LegRejected` with the error it would have reverted with.
 */
export async function expectLzRejected(call: Promise<TransactionReceipt>, errorName: string): Promise<void> {
  const receipt = await call;
  const [rejected] = parseEventLogs({ abi: vaultCallAbi, eventName: 'LegRejected', logs: receipt.logs });
  expect(rejected, `expected LegRejected(${errorName})`).toBeDefined();
  expect(decodeErrorResult({ abi: vaultCallAbi, data: rejected?.args.reason ?? '0x' }).errorName).toBe(errorName);
  expect(parseEventLogs({ abi: vaultCallAbi, logs: receipt.logs }).map((e) => e.eventName)).toEqual(['LegRejected']);
}

/** Every log of these contracts from genesis. */
export function logsOf(signer: Signer, addresses: readonly Address[]): Promise<Log[]> {
  return signer.public.getLogs({ address: [...addresses], fromBlock: 0n, toBlock: 'latest' });
}

/**
 * Rebuilds every account of a margin engine from its logs and its feeds' logs alone, and
 * compares each with the engine's `accountOf` view: collateral, positions, consent, and the
 * equity, requirements and free collateral recomputed from logged markets and prices. Returns
 * how many accounts it compared.
 */
export async function expectLogsRebuildViews(params: { signer: Signer; engine: Address; feeds: readonly Address[] }): Promise<number> {
  const { signer, engine, feeds } = params;
  const state = applyEngineLogs(emptyEngineState(), await logsOf(signer, [engine]));
  const answers = latestFeedAnswers(await logsOf(signer, feeds));
  const prices = new Map([...state.markets].flatMap(([market, config]) => {
    const answer = answers.get(config.feed);
    return answer ? [[market, answer.answer] as const] : [];
  }));
  expect(state.insuranceFund).toBe(await signer.public.readContract({ address: engine, abi: marginEngineAbi, functionName: 'insuranceFund' }));
  for (const [address, rebuilt] of state.accounts) {
    const view = await signer.public.readContract({ address: engine, abi: marginEngineAbi, functionName: 'accountOf', args: [address] });
    const health = accountHealth({ collateral: rebuilt.collateral, positions: rebuilt.positions, markets: state.markets, prices });
    expect({ account: address, collateral: rebuilt.collateral, consent: rebuilt.crossChainConsent, ...health }).toEqual({
      account: address,
      collateral: view.collateral,
      consent: view.crossChainConsent,
      equity: view.equity,
      maintenanceMargin: view.maintenanceMargin,
      initialMargin: view.initialMargin,
      freeCollateral: view.freeCollateral,
    });
    const rebuiltPositions = [...rebuilt.positions].map(([market, p]) => ({ market, size: p.size, entryPrice: p.entryPrice }));
    const viewPositions = view.positions.map((p) => ({ market: p.market, size: p.size, entryPrice: p.entryPrice }));
    expect(rebuiltPositions.sort((a, b) => a.market.localeCompare(b.market))).toEqual(viewPositions.sort((a, b) => a.market.localeCompare(b.market)));
  }
  return state.accounts.size;
}
