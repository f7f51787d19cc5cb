import type { Address, Hex } from 'viem';
import { RelayerError } from '../../relayer/errors.js';
import type { ManifestChain } from '../devnet/manifest.js';

/** A market the watcher follows: the engine's id and the feed the engine reads for it. */
export interface WatchedMarket {
  readonly marketId: Hex;
  readonly priceFeed: Address;
  /**
   * Seconds after which the feed's price is stale for the risk math; default the engine's
   * `maxPriceAge`. A Chainlink feed's heartbeat is usually much shorter than what an engine
   * tolerates, and staleness should be noticed at the heartbeat.
   */
  readonly heartbeatSeconds?: number;
}

/** What a watcher needs to know about one chain (DESIGN.md section 3). */
export interface WatchedChain {
  readonly key: string;
  readonly chainId: number;
  /** Tried in order, failing over (rpc-client.ts). */
  readonly rpcUrls: readonly string[];
  /** Only blocks this deep are acted on; 0 allowed on a devnet. */
  readonly confirmations: number;
  readonly marginEngine: Address;
  /**
   * The first block that may hold a log of the engine or a feed (the first feed's deployment).
   * The index is rebuilt from here on every start (see chain-watcher.ts for why).
   */
  readonly startBlock: bigint;
  readonly markets: readonly WatchedMarket[];
}

/** A devnet manifest's chain as a watched chain (a devnet chain is short: start at block 0). */
export function watchedChainFromManifest(
  chain: ManifestChain,
  overrides: { confirmations?: number; startBlock?: bigint; rpcUrls?: readonly string[]; heartbeatSeconds?: number } = {},
): WatchedChain {
  if (chain.markets.length === 0) throw new RelayerError(`chain ${chain.key} lists no markets to watch`);
  return {
    key: chain.key,
    chainId: chain.chainId,
    rpcUrls: overrides.rpcUrls ?? [chain.rpcUrl],
    confirmations: overrides.confirmations ?? 0,
    marginEngine: chain.contracts.marginEngine,
    startBlock: overrides.startBlock ?? 0n,
    markets: chain.markets.map((market) => ({
      marketId: market.marketId,
      priceFeed: market.priceFeed,
      ...(overrides.heartbeatSeconds === undefined ? {} : { heartbeatSeconds: overrides.heartbeatSeconds }),
    })),
  };
}
