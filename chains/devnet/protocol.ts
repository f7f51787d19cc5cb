import { type Address, type Hex } from 'viem';
import { collateralTokenAbi, collateralTokenBytecode } from '../contracts/out/CollateralToken.js';
import { marginEngineAbi, marginEngineBytecode } from '../contracts/out/MarginEngine.js';
import { marketPriceFeedAbi, marketPriceFeedBytecode } from '../contracts/out/MarketPriceFeed.js';
import { vaultAbi, vaultBytecode } from '../contracts/out/Vault.js';
import type { AuctionConfig } from '../protocol/auction.js';
import { marketId } from '../protocol/markets.js';
import { fraction, PRICE_DECIMALS, price, size, usd } from '../protocol/units.js';
import type { Signer } from '../signer.js';

/** A market as the devnet lists it on every chain. */
export interface MarketSpec {
  /** e.g. `ETH-USD`; its bytes32 is the market id. */
  readonly symbol: string;
  /** The feed's description, e.g. `ETH / USD`. */
  readonly description: string;
  /** First round of the feed (8 decimals). */
  readonly initialPrice: bigint;
  /** WAD fractions. */
  readonly maintenanceMarginFraction: bigint;
  readonly initialMarginFraction: bigint;
  readonly liquidationPenalty: bigint;
  /** How far above maintenance a liquidation or a take may restore (WAD fraction of notional): here initial - maintenance, as Mango v4 liquidates up to initial health. */
  readonly liquidationBuffer: bigint;
  /** Base reserve of the market's virtual AMM (1e18 scale): the deeper, the less slippage. */
  readonly ammDepth: bigint;
  /** Seconds a price stays usable for state changes. */
  readonly maxPriceAge: bigint;
}

/**
 * The devnet's markets. Margins and penalties are in the range of live perp venues; AMM depths
 * make a liquidation of a few percent of open interest cost a visible slippage. Prices stay
 * usable for a day so that an idle devnet keeps working.
 */
export const DEVNET_MARKETS: readonly MarketSpec[] = [
  {
    symbol: 'ETH-USD',
    description: 'ETH / USD',
    initialPrice: price('3000'),
    maintenanceMarginFraction: fraction('0.05'),
    initialMarginFraction: fraction('0.1'),
    liquidationPenalty: fraction('0.02'),
    liquidationBuffer: fraction('0.05'),
    ammDepth: size('2000'),
    maxPriceAge: 86_400n,
  },
  {
    symbol: 'BTC-USD',
    description: 'BTC / USD',
    initialPrice: price('60000'),
    maintenanceMarginFraction: fraction('0.04'),
    initialMarginFraction: fraction('0.08'),
    liquidationPenalty: fraction('0.015'),
    liquidationBuffer: fraction('0.04'),
    ammDepth: size('100'),
    maxPriceAge: 86_400n,
  },
  {
    symbol: 'SOL-USD',
    description: 'SOL / USD',
    initialPrice: price('150'),
    maintenanceMarginFraction: fraction('0.08'),
    initialMarginFraction: fraction('0.15'),
    liquidationPenalty: fraction('0.03'),
    liquidationBuffer: fraction('0.07'),
    ammDepth: size('40000'),
    maxPriceAge: 86_400n,
  },
];

/**
 * Every devnet market's Dutch auction (MarginEngine.AuctionConfig), fast enough for a crash played
 * in a minute: a lot starts 5% beyond the oracle (buf 1.05), moves 1% every 5 s (cut 0.99,
 * step 5), reaches the oracle after 5 steps (25 s), and is due a reset after 9 steps (cusp 0.92:
 * 1.05 x 0.99^9 = 0.959 of the oracle, about where taking stops helping an ETH account, whose
 * neutral price is 1 - 5% + 2% = 0.97) or after 90 s (tail).
 */
export const DEVNET_AUCTION: AuctionConfig = { buf: fraction('1.05'), cut: fraction('0.99'), cusp: fraction('0.92'), step: 5n, tail: 90n };
/**
 * Every devnet market's per-block limits: at most 1,000,000 USD of notional liquidated, absorbed
 * or auctioned per block (far above any single action of the seeded crash, so the cap only bites
 * on a cascade), and the backstop's unwinds may move the pool at most 1% (100 bps) per block.
 */
export const DEVNET_MARKET_LIMITS = { maxNotionalPerBlock: usd('1000000'), unwindImpactBps: 100n } as const;
/** The insurance fund may cover at most 250,000 USD of bad debt per block on a devnet chain. */
export const DEVNET_INSURANCE_LOSS_CAP = usd('250000');

/** Protocol-owned liquidity issued to each chain's vault at deployment. */
export const DEVNET_VAULT_RESERVE = usd('1000000');
/** The liquidator's half of a liquidation penalty; the insurance fund keeps the other half. */
export const DEVNET_LIQUIDATOR_SHARE = fraction('0.5');

export interface DeployedMarket {
  readonly symbol: string;
  readonly marketId: Hex;
  readonly priceFeed: Address;
}

export interface ProtocolDeployment {
  readonly collateralToken: Address;
  readonly marginEngine: Address;
  readonly vault: Address;
  readonly markets: readonly DeployedMarket[];
}

/**
 * Deploys the protocol on one chain: the collateral token, a price feed per market, the margin
 * engine with the markets listed (each with DEVNET_AUCTION and DEVNET_MARKET_LIMITS, the engine
 * with DEVNET_INSURANCE_LOSS_CAP and `guardian` as its guardian, when given), and the vault
 * (LayerZero OApp on `lzEndpoint`, Wormhole receiver on `wormholeCore`) as the token's minter,
 * the engine's vault and its backstop. The deployer owns everything; `relayer` may start legs
 * and unwind the backstop; the vault's reserve is issued last. Remote vaults are registered by
 * `wireProtocol` once every chain is deployed.
 */
export async function deployProtocol(params: {
  deployer: Signer;
  relayer: Address;
  guardian?: Address;
  lzEndpoint: Address;
  wormholeCore: Address;
  markets?: readonly MarketSpec[];
  reserve?: bigint;
}): Promise<ProtocolDeployment> {
  const { deployer, relayer, lzEndpoint, wormholeCore } = params;
  const specs = params.markets ?? DEVNET_MARKETS;
  const owner = deployer.address;
  const collateralToken = await deployer.deploy({ name: 'CollateralToken', abi: collateralTokenAbi, bytecode: collateralTokenBytecode, args: ['Devnet USD', 'dUSD'] });
  const markets: DeployedMarket[] = [];
  for (const spec of specs) {
    const priceFeed = await deployer.deploy({
      name: `MarketPriceFeed ${spec.symbol}`,
      abi: marketPriceFeedAbi,
      bytecode: marketPriceFeedBytecode,
      args: [PRICE_DECIMALS, spec.description, spec.initialPrice, owner],
    });
    markets.push({ symbol: spec.symbol, marketId: marketId(spec.symbol), priceFeed });
  }
  const marginEngine = await deployer.deploy({
    name: 'MarginEngine',
    abi: marginEngineAbi,
    bytecode: marginEngineBytecode,
    args: [collateralToken, owner, DEVNET_LIQUIDATOR_SHARE],
  });
  const vault = await deployer.deploy({ name: 'Vault', abi: vaultAbi, bytecode: vaultBytecode, args: [lzEndpoint, wormholeCore, collateralToken, marginEngine, owner] });

  await deployer.write({ address: collateralToken, abi: collateralTokenAbi, functionName: 'setVault', args: [vault], label: 'CollateralToken' });
  await deployer.write({ address: marginEngine, abi: marginEngineAbi, functionName: 'setVault', args: [vault], label: 'MarginEngine' });
  await deployer.write({ address: marginEngine, abi: marginEngineAbi, functionName: 'setBackstop', args: [vault], label: 'MarginEngine' });
  for (const [index, spec] of specs.entries()) {
    const market = markets[index] as DeployedMarket;
    await deployer.write({
      address: marginEngine,
      abi: marginEngineAbi,
      functionName: 'listMarket',
      args: [
        market.marketId,
        {
          feed: market.priceFeed,
          maxPriceAge: spec.maxPriceAge,
          maintenanceMarginFraction: spec.maintenanceMarginFraction,
          initialMarginFraction: spec.initialMarginFraction,
          liquidationPenalty: spec.liquidationPenalty,
          liquidationBuffer: spec.liquidationBuffer,
          ammDepth: spec.ammDepth,
        },
      ],
      label: 'MarginEngine',
    });
    await deployer.write({ address: marginEngine, abi: marginEngineAbi, functionName: 'setAuctionConfig', args: [market.marketId, DEVNET_AUCTION], label: 'MarginEngine' });
    await deployer.write({ address: marginEngine, abi: marginEngineAbi, functionName: 'setMarketLimits', args: [market.marketId, DEVNET_MARKET_LIMITS], label: 'MarginEngine' });
  }
  await deployer.write({ address: marginEngine, abi: marginEngineAbi, functionName: 'setInsuranceLossCap', args: [DEVNET_INSURANCE_LOSS_CAP], label: 'MarginEngine' });
  if (params.guardian) await deployer.write({ address: marginEngine, abi: marginEngineAbi, functionName: 'setGuardian', args: [params.guardian], label: 'MarginEngine' });
  await deployer.write({ address: vault, abi: vaultAbi, functionName: 'setRelayer', args: [relayer, true], label: 'Vault' });
  const reserve = params.reserve ?? DEVNET_VAULT_RESERVE;
  if (reserve > 0n) await deployer.write({ address: vault, abi: vaultAbi, functionName: 'issue', args: [vault, reserve], label: 'Vault' });
  return { collateralToken, marginEngine, vault, markets };
}

/** A remote chain's ids and vault, as `Vault.setRemote` takes them. */
export interface RemoteVault {
  readonly chainId: number;
  readonly lzEid: number;
  readonly wormholeChainId: number;
  readonly vault: Address;
}

/**
 * Registers every remote vault with the local one (the deployer owns it): each becomes the
 * local vault's LayerZero peer on its eid and its trusted Wormhole emitter.
 */
export async function wireProtocol(params: { deployer: Signer; vault: Address; remotes: readonly RemoteVault[] }): Promise<void> {
  for (const remote of params.remotes) {
    await params.deployer.write({
      address: params.vault,
      abi: vaultAbi,
      functionName: 'setRemote',
      args: [BigInt(remote.chainId), remote.lzEid, remote.wormholeChainId, remote.vault],
      label: 'Vault',
    });
  }
}
