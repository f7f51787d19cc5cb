import type { Address, TransactionReceipt } from 'viem';
import { marketPriceFeedAbi } from '../contracts/out/MarketPriceFeed.js';
import type { Signer } from '../signer.js';

/** Publishes a new round on a MarketPriceFeed (the signer must own it); `price` has 8 decimals. */
export function pushPrice(params: { signer: Signer; feed: Address; price: bigint }): Promise<TransactionReceipt> {
  return params.signer.write({ address: params.feed, abi: marketPriceFeedAbi, functionName: 'pushRound', args: [params.price], label: 'MarketPriceFeed' });
}
