import { maxUint256, type Address, type Hash } from 'viem';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { vaultAbi } from '../../chains/contracts/out/Vault.js';
import { TRANSPORT_ID } from '../../chains/protocol/payload.js';
import { abs, PRICE_DECIMALS, SIZE_DECIMALS, VALUE_SCALE, WAD } from '../../chains/protocol/units.js';
import { transportKinds, type TransportKind } from '../../chains/messaging/transport.js';
import { reservedOnSources, type LegReservation, type ReservationRead } from '../../db/index.js';
import type { ExecutionChain, ExecutionContext } from '../execution/execution-context.js';
import type { PolicyPosition, PolicyRoute, PolicySource } from '../policy/index.js';

/** A market's auction as the core sees it (PolicyPosition.auction). */
type PolicyAuction = NonNullable<PolicyPosition['auction']>;
import { measuredLatency } from './measured-latency.js';

export interface ChainWorldConfig {
  readonly context: ExecutionContext;
  /** USD per native token on each chain (gas and messaging fees are paid in it). */
  readonly nativeUsd: (chainId: number) => number;
  /** Expected seconds from send to credit per transport: the prior that measurements move (measured-latency.ts). */
  readonly latencySeconds: Readonly<Record<TransportKind, number>>;
  /** Gas a leg costs on its source and on its destination. */
  readonly gas: { readonly source: bigint; readonly destination: bigint };
  /** Whether the core may start Dutch auctions (node config `auction.enabled`); off, it sees none. */
  readonly auctions?: boolean;
}

export interface WorldRequest {
  readonly chainId: number;
  readonly account: Address;
  /** The fraction of notional the required amount restores in a market (its id, its maintenance fraction m). */
  readonly targetFraction: (market: string, maintenanceFraction: number) => number;
  /** The market's EWMA volatility per square root of a second (its id, its maintenance fraction m). */
  readonly sigma: (market: string, maintenanceFraction: number) => number;
}

/** What the chains show of one account and the value that could reach it, for the decision core. */
export interface AccountWorld {
  /** The engine's own view at the latest prices. */
  readonly health: { readonly equity: bigint; readonly maintenance: bigint; readonly initial: bigint };
  readonly positions: readonly PolicyPosition[];
  /** Capacities net of what other plans have reserved. */
  readonly sources: readonly PolicySource[];
  readonly homeGasUsd: number;
  /** Per market of the account's chain: oracle price (8 decimals) and the position's signed size. */
  readonly markets: ReadonlyMap<string, { readonly price: bigint; readonly size: bigint }>;
  /** Per source (`sourceKey`): the gross capacity read on chain and the block it was read at. */
  readonly observed: ReadonlyMap<string, LegReservation>;
}

/** Where the node's snapshots come from: the chains in the node, fixed worlds in tests and benches. */
export interface WorldSource {
  worldFor(request: WorldRequest): Promise<AccountWorld>;
}

/** `liquidity:31002`: the key of a source in `AccountWorld.observed`. */
export const sourceKey = (kind: 'collateral' | 'liquidity', chainId: number): string => `${kind}:${chainId}`;

const QUOTE_LEG_ID: Hash = `0x${'00'.repeat(31)}01`;
const WEI_PER_NATIVE = 1e18;
const toFraction = (wad: bigint): number => Number(wad) / Number(WAD);
const SIZE_UNITS = 10 ** SIZE_DECIMALS;
const PRICE_UNITS = 10 ** PRICE_DECIMALS;
const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000';

/**
 * Reads the world live (DESIGN.md section 6): the account's positions, the engine's pool for
 * each (its virtual AMM: base reserve the market's depth, quote reserve depth x oracle, so its
 * price is the oracle's; no fee), the backstop's own position in each such market, and for every other chain the account's consented free collateral and the vault's
 * reserve, each read at one block and offered net of what other plans reserved, over each
 * transport with the fee the vault quotes for exactly that leg plus gas on both chains; per market
 * also what the per-block notional cap leaves and, with auctions enabled, the market's auction terms.
 */
export class ChainWorld implements WorldSource {
  constructor(private readonly config: ChainWorldConfig) {}

  async worldFor(request: WorldRequest): Promise<AccountWorld> {
    const { context } = this.config;
    const home = context.chains.get(request.chainId);
    if (!home) throw new Error(`chain ${request.chainId} is not configured`);
    const client = home.signer.public;
    const view = await client.readContract({ address: home.marginEngine, abi: marginEngineAbi, functionName: 'accountOf', args: [request.account] });
    const positions: PolicyPosition[] = [];
    const markets = new Map<string, { price: bigint; size: bigint }>();
    const backstop = view.positions.length === 0 ? ZERO_ADDRESS : await client.readContract({ address: home.marginEngine, abi: marginEngineAbi, functionName: 'backstop' });
    for (const position of view.positions) {
      const config = await client.readContract({ address: home.marginEngine, abi: marginEngineAbi, functionName: 'marketConfig', args: [position.market] });
      const [baseReserve, quoteReserve] = await client.readContract({ address: home.marginEngine, abi: marginEngineAbi, functionName: 'ammReserves', args: [position.market] });
      const [backstopSize] = backstop === ZERO_ADDRESS ? [0n] : await client.readContract({ address: home.marginEngine, abi: marginEngineAbi, functionName: 'positionOf', args: [backstop, position.market] });
      const limits = await client.readContract({ address: home.marginEngine, abi: marginEngineAbi, functionName: 'blockLimits', args: [position.market] });
      const auction = this.config.auctions ? await this.auctionOf(home, request.account, position.market) : undefined;
      const maintenanceFraction = toFraction(config.maintenanceMarginFraction);
      positions.push({
        marketId: position.market,
        notional: (abs(position.size) * position.price) / VALUE_SCALE,
        long: position.size > 0n,
        maintenanceFraction,
        initialFraction: toFraction(config.initialMarginFraction),
        liquidationBufferFraction: toFraction(config.liquidationBuffer),
        targetFraction: request.targetFraction(position.market, maintenanceFraction),
        penalty: toFraction(config.liquidationPenalty),
        oraclePrice: Number(position.price) / PRICE_UNITS,
        sigma: request.sigma(position.market, maintenanceFraction),
        // Signed, rounded toward zero.
        backstopNotional: (backstopSize * position.price) / VALUE_SCALE,
        pool: { quoteReserve, baseReserve: Number(baseReserve) / SIZE_UNITS, fee: 0 },
        // What the per-market cap leaves in the block read (the engine's maximum: no cap).
        ...(limits.notionalLeft === maxUint256 ? {} : { blockNotionalLeft: limits.notionalLeft }),
        ...(auction ? { auction } : {}),
      });
      markets.set(position.market, { price: position.price, size: position.size });
    }
    const largest = [...view.positions].sort((a, b) => (abs(b.size) > abs(a.size) ? 1 : -1))[0];
    const homeGasUsd = await this.gasUsd(home, this.config.gas.destination);
    const reads = await Promise.all([...context.chains.values()].filter((c) => c.chainId !== home.chainId).map((source) => this.readSource({ source, home, account: request.account, largest })));
    const gross = reads.flatMap((read) => read.sources);
    const reserved = await reservedOnSources(context.ledger, gross.map((entry) => entry.read));
    const observed = new Map<string, LegReservation>();
    const sources: PolicySource[] = [];
    gross.forEach((entry, i) => {
      const net = entry.capacity - (reserved[i] ?? 0n);
      observed.set(sourceKey(entry.source.kind, entry.source.chainId), { capacity: entry.capacity, observedBlock: entry.read.observedBlock });
      if (net > 0n) sources.push({ ...entry.source, capacity: net });
    });
    return { health: { equity: view.equity, maintenance: view.maintenanceMargin, initial: view.initialMargin }, positions, sources, homeGasUsd, markets, observed };
  }

  /**
   * The market's Dutch auction terms as the core prices them, or undefined where the engine would
   * refuse one: no auctions in the market (zero step), or one of this position already open
   * (`AuctionActive`; its leg, while within its deadline, is in flight).
   */
  private async auctionOf(chain: ExecutionChain, account: Address, market: Hash): Promise<PolicyAuction | undefined> {
    const config = await chain.signer.public.readContract({ address: chain.marginEngine, abi: marginEngineAbi, functionName: 'auctionConfig', args: [market] });
    if (config.step === 0n) return undefined;
    const open = await chain.signer.public.readContract({ address: chain.marginEngine, abi: marginEngineAbi, functionName: 'auctionOf', args: [account, market] });
    if (open.lot !== 0n) return undefined;
    return { buf: toFraction(config.buf), cut: toFraction(config.cut), cusp: toFraction(config.cusp), stepSeconds: Number(config.step), tailSeconds: Number(config.tail) };
  }

  /** One chain's surplus of the account (if it consented there) and its vault's reserve, at one block. */
  private async readSource(params: { source: ExecutionChain; home: ExecutionChain; account: Address; largest: { market: Hash; size: bigint } | undefined }) {
    const { source, home, account, largest } = params;
    const client = source.signer.public;
    const blockNumber = await client.getBlockNumber({ cacheTime: 0 });
    const view = await client.readContract({ address: source.marginEngine, abi: marginEngineAbi, functionName: 'accountOf', args: [account], blockNumber });
    const reserve = await client.readContract({ address: source.vault, abi: vaultAbi, functionName: 'reserve', blockNumber });
    const gasUsd = (await this.gasUsd(source, this.config.gas.source)) + (await this.gasUsd(home, this.config.gas.destination));
    const sources: { source: Omit<PolicySource, 'capacity'>; capacity: bigint; read: ReservationRead }[] = [];
    if (view.crossChainConsent && view.freeCollateral > 0n) {
      const routes = await this.routes({ source, home, gasUsd, quote: (transport) => this.quote({ source, home, transport, account, amount: view.freeCollateral }) });
      sources.push({ source: { kind: 'collateral', chainId: source.chainId, key: source.key, routes }, capacity: view.freeCollateral, read: { sourceChainId: source.chainId, source: 'surplus', account, observedBlock: blockNumber } });
    }
    if (largest && reserve > 0n) {
      const routes = await this.routes({ source, home, gasUsd, quote: (transport) => this.quote({ source, home, transport, account, amount: reserve, market: largest.market, size: largest.size }) });
      sources.push({ source: { kind: 'liquidity', chainId: source.chainId, key: source.key, routes }, capacity: reserve, read: { sourceChainId: source.chainId, source: 'vault', observedBlock: blockNumber } });
    }
    return { sources };
  }

  private async routes(params: { source: ExecutionChain; home: ExecutionChain; gasUsd: number; quote: (transport: TransportKind) => Promise<bigint> }): Promise<PolicyRoute[]> {
    const { source, home } = params;
    return Promise.all(
      transportKinds.map(async (transport) => ({
        transport,
        fixedCostUsd: params.gasUsd + (Number(await params.quote(transport)) / WEI_PER_NATIVE) * this.config.nativeUsd(source.chainId),
        latencySeconds: await measuredLatency({ ledger: this.config.context.ledger, sourceChainId: source.chainId, destinationChainId: home.chainId, transport, prior: this.config.latencySeconds[transport] }),
      })),
    );
  }

  private async gasUsd(chain: ExecutionChain, gas: bigint): Promise<number> {
    const price = await chain.signer.public.getGasPrice();
    return (Number(price * gas) / WEI_PER_NATIVE) * this.config.nativeUsd(chain.chainId);
  }

  /** The vault's own quote for this leg (the fee depends on the payload and the route). */
  private quote(params: { source: ExecutionChain; home: ExecutionChain; transport: TransportKind; account: Address; amount: bigint; market?: Hash; size?: bigint }): Promise<bigint> {
    const { source, home, transport, account, amount } = params;
    const client = source.signer.public;
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3_600);
    const options = this.config.context.transports[transport].sendOptions(this.config.context.receiveGas);
    return params.market === undefined || params.size === undefined
      ? client.readContract({ address: source.vault, abi: vaultAbi, functionName: 'quoteSendCollateral', args: [BigInt(home.chainId), account, amount, QUOTE_LEG_ID, deadline, TRANSPORT_ID[transport], options] })
      : client.readContract({ address: source.vault, abi: vaultAbi, functionName: 'quoteSendLiquidity', args: [BigInt(home.chainId), account, amount, params.market, params.size, QUOTE_LEG_ID, deadline, TRANSPORT_ID[transport], options] });
  }
}
