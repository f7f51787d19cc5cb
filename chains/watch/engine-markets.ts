import { isAddressEqual, type Chain, type Hex, type PublicClient, type Transport } from 'viem';
import { ConfigError, RelayerError } from '../../relayer/errors.js';
import { marginEngineAbi } from '../contracts/out/MarginEngine.js';
import { marketPriceFeedAbi } from '../contracts/out/MarketPriceFeed.js';
import { shortReason } from '../signer.js';
import type { WatchedChain } from './watched-chain.js';

/** A watched market's parameters as the engine lists them now, with its feed's decimals. */
export interface EngineMarket {
  readonly marketId: Hex;
  readonly maintenanceMarginFraction: bigint;
  readonly maxPriceAge: bigint;
  readonly priceDecimals: number;
}

/**
 * Reads each watched market's configuration from the engine and its feed's decimals: a few
 * calls per start, not per account. Later changes arrive as `MarketConfigured` events. A market
 * the engine does not list, or lists with another feed, is a configuration error.
 */
export async function readEngineMarkets(client: PublicClient<Transport, Chain>, chain: WatchedChain): Promise<EngineMarket[]> {
  return Promise.all(
    chain.markets.map(async (market) => {
      const where = `market ${market.marketId} of MarginEngine ${chain.marginEngine} on chain ${chain.key}`;
      let config;
      let decimals;
      try {
        config = await client.readContract({ address: chain.marginEngine, abi: marginEngineAbi, functionName: 'marketConfig', args: [market.marketId] });
        decimals = await client.readContract({ address: market.priceFeed, abi: marketPriceFeedAbi, functionName: 'decimals' });
      } catch (cause) {
        if (shortReason(cause).includes('UnknownMarket')) throw new ConfigError(`${where} is not listed`, { cause });
        throw new RelayerError(`reading ${where} failed: ${shortReason(cause)}`, { cause, retryable: true });
      }
      if (!isAddressEqual(config.feed, market.priceFeed)) {
        throw new ConfigError(`${where} reads feed ${config.feed}, not the configured ${market.priceFeed}`);
      }
      return { marketId: market.marketId, maintenanceMarginFraction: config.maintenanceMarginFraction, maxPriceAge: config.maxPriceAge, priceDecimals: decimals };
    }),
  );
}
