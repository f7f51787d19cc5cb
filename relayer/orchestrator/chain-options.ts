import type { Address, Hash } from 'viem';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { vaultAbi } from '../../chains/contracts/out/Vault.js';
import { TRANSPORT_ID } from '../../chains/protocol/payload.js';
import { COLLATERAL_DECIMALS, VALUE_SCALE, WAD } from '../../chains/protocol/units.js';
import { transportKinds, type TransportKind } from '../../chains/messaging/transport.js';
import type { ExecutionChain, ExecutionContext } from '../execution/execution-context.js';
import { measuredLatency } from './measured-latency.js';
import type { ShortfallReport } from './shortfall-report.js';
import type { OptionSource, SourcingOption } from './sourcing-option.js';

export interface ChainOptionsConfig {
  readonly context: ExecutionContext;
  /** USD per native token on each chain (gas and messaging fees are paid in it). */
  readonly nativeUsd: (chainId: number) => number;
  /** Expected seconds from send to credit per transport: the prior that measurements move (measured-latency.ts). */
  readonly latencySeconds: Readonly<Record<TransportKind, number>>;
  /** Gas a leg costs on its source and on its destination. */
  readonly gas: { readonly source: bigint; readonly destination: bigint };
  /** What using protocol-owned liquidity costs per USD (its opportunity cost). */
  readonly liquidityRate: number;
  /** Seconds a local liquidation takes (a block or two). */
  readonly localLatencySeconds: number;
  /** The planner's price of waiting, to pick each source's transport. */
  readonly riskPerSecond: number;
}

const QUOTE_LEG_ID: Hash = `0x${'00'.repeat(31)}01`;
const WEI_PER_NATIVE = 1e18;

/**
 * Sourcing options read live from the chains (DESIGN.md section 6): for every other chain, the
 * account's free collateral there (only if its owner consented) and the vault's reserve
 * (funding a backstop absorption of the account's largest position), each over each transport,
 * with fixed costs from the gas prices and the fee the vault quotes for exactly that leg.
 */
export class ChainOptionSource implements OptionSource {
  constructor(private readonly config: ChainOptionsConfig) {}

  /**
   * One option per source and kind: the same surplus or reserve over two transports is one
   * capacity, which the planner would otherwise count twice. Each keeps its cheaper transport
   * (fixed cost plus the price of its wait).
   */
  async optionsFor(report: ShortfallReport): Promise<readonly SourcingOption[]> {
    const best = new Map<string, SourcingOption>();
    const price = (option: SourcingOption) => option.fixedCostUsd + this.config.riskPerSecond * option.latencySeconds;
    for (const option of await this.candidates(report)) {
      const key = `${option.kind}:${option.sourceChainId}`;
      const current = best.get(key);
      if (!current || price(option) < price(current)) best.set(key, option);
    }
    return [...best.values()];
  }

  /** Every way to bring value to the account's chain, each transport separately. */
  async candidates(report: ShortfallReport): Promise<readonly SourcingOption[]> {
    const { context } = this.config;
    const destination = context.chains.get(report.chainId);
    if (!destination) return [];
    const account = report.account as Address;
    const there = await destination.signer.public.readContract({ address: destination.marginEngine, abi: marginEngineAbi, functionName: 'accountOf', args: [account] });
    const largest = [...there.positions].sort((a, b) => (abs(b.size) > abs(a.size) ? 1 : -1))[0];
    const destinationGasUsd = await this.gasUsd(destination, this.config.gas.destination);
    const options: SourcingOption[] = [];
    for (const source of context.chains.values()) {
      if (source.chainId === destination.chainId) continue;
      const view = await source.signer.public.readContract({ address: source.marginEngine, abi: marginEngineAbi, functionName: 'accountOf', args: [account] });
      const reserve = await source.signer.public.readContract({ address: source.vault, abi: vaultAbi, functionName: 'reserve' });
      const sourceGasUsd = await this.gasUsd(source, this.config.gas.source);
      for (const transport of transportKinds) {
        const latencySeconds = await measuredLatency({ ledger: context.ledger, sourceChainId: source.chainId, destinationChainId: destination.chainId, transport, prior: this.config.latencySeconds[transport] });
        const fixed = async (feeWei: bigint) => sourceGasUsd + destinationGasUsd + (Number(feeWei) / WEI_PER_NATIVE) * this.config.nativeUsd(source.chainId);
        if (view.crossChainConsent && view.freeCollateral > 0n) {
          const fee = await this.quote({ source, destination, transport, account, amount: view.freeCollateral });
          options.push({ kind: 'collateral', sourceChainId: source.chainId, sourceKey: source.key, transport, capacity: view.freeCollateral, fixedCostUsd: await fixed(fee), latencySeconds, cost: { type: 'linear', rate: 0 } });
        }
        if (largest && reserve > 0n) {
          const fee = await this.quote({ source, destination, transport, account, amount: reserve, market: largest.market, size: largest.size });
          options.push({
            kind: 'liquidity',
            sourceChainId: source.chainId,
            sourceKey: source.key,
            transport,
            capacity: reserve,
            fixedCostUsd: await fixed(fee),
            latencySeconds,
            cost: { type: 'linear', rate: this.config.liquidityRate },
            marketId: largest.market,
            positionSize: largest.size,
          });
        }
      }
    }
    if (largest) {
      const local = await this.localOption({ destination, account, market: largest.market, price: largest.price, gasUsd: destinationGasUsd });
      if (local) options.push(local);
    }
    return options;
  }

  /**
   * A partial liquidation on the account's own chain, if the engine allows one now: the
   * market's AMM as a constant-product pool valued at the oracle (slippage) with the penalty
   * as its fee, up to the notional the engine would let go (and well inside the pool).
   */
  private async localOption(params: { destination: ExecutionChain; account: Address; market: Hash; price: bigint; gasUsd: number }): Promise<SourcingOption | undefined> {
    const { destination, account, market } = params;
    const client = destination.signer.public;
    const size = await client.readContract({ address: destination.marginEngine, abi: marginEngineAbi, functionName: 'maxLiquidationSize', args: [account, market] });
    if (size === 0n) return undefined;
    const [, quoteReserve] = await client.readContract({ address: destination.marginEngine, abi: marginEngineAbi, functionName: 'ammReserves', args: [market] });
    const config = await client.readContract({ address: destination.marginEngine, abi: marginEngineAbi, functionName: 'marketConfig', args: [market] });
    const notional = (abs(size) * params.price) / VALUE_SCALE;
    const poolLimit = (quoteReserve * 9n) / 10n;
    const poolUsd = Number(quoteReserve) / 10 ** COLLATERAL_DECIMALS;
    return {
      kind: 'local',
      sourceChainId: destination.chainId,
      sourceKey: destination.key,
      transport: null,
      capacity: notional < poolLimit ? notional : poolLimit,
      fixedCostUsd: params.gasUsd,
      latencySeconds: this.config.localLatencySeconds,
      cost: { type: 'cpmm', reserveIn: poolUsd, reserveOut: poolUsd, fee: Number(config.liquidationPenalty) / Number(WAD) },
      marketId: market,
    };
  }

  private async gasUsd(chain: ExecutionChain, gas: bigint): Promise<number> {
    const price = await chain.signer.public.getGasPrice();
    return (Number(price * gas) / WEI_PER_NATIVE) * this.config.nativeUsd(chain.chainId);
  }

  /** The vault's own quote for this leg (the fee depends on the payload and the route). */
  private quote(params: { source: ExecutionChain; destination: ExecutionChain; transport: TransportKind; account: Address; amount: bigint; market?: Hash; size?: bigint }): Promise<bigint> {
    const { source, destination, transport, account, amount } = params;
    const client = source.signer.public;
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3_600);
    const options = this.config.context.transports[transport].sendOptions(this.config.context.receiveGas);
    return params.market === undefined || params.size === undefined
      ? client.readContract({ address: source.vault, abi: vaultAbi, functionName: 'quoteSendCollateral', args: [BigInt(destination.chainId), account, amount, QUOTE_LEG_ID, deadline, TRANSPORT_ID[transport], options] })
      : client.readContract({ address: source.vault, abi: vaultAbi, functionName: 'quoteSendLiquidity', args: [BigInt(destination.chainId), account, amount, params.market, params.size, QUOTE_LEG_ID, deadline, TRANSPORT_ID[transport], options] });
  }
}

const abs = (value: bigint): bigint => (value < 0n ? -value : value);
