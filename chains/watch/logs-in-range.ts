import type { Address, Chain, Log, PublicClient, Transport } from 'viem';
import { RelayerError } from '../../relayer/errors.js';
import { shortReason } from '../signer.js';

/**
 * Fetches logs in bounded block ranges. An RPC that refuses a range (too many blocks or
 * results: providers word it differently) gets half the range, down to a single block; after a
 * success the range grows back toward the maximum. The range in use is kept across calls.
 */
export class LogsInRange {
  private range: bigint;

  constructor(
    private readonly client: PublicClient<Transport, Chain>,
    private readonly maxRange: bigint,
  ) {
    if (maxRange < 1n) throw new RelayerError(`maxRange must be at least 1 block, got ${maxRange}`);
    this.range = maxRange;
  }

  get currentRange(): bigint {
    return this.range;
  }

  /** Every log of `addresses` in [from, to], in chain order. */
  async fetch(params: { addresses: readonly Address[]; from: bigint; to: bigint }): Promise<Log[]> {
    const logs: Log[] = [];
    let start = params.from;
    while (start <= params.to) {
      const end = start + this.range - 1n < params.to ? start + this.range - 1n : params.to;
      try {
        const chunk = await this.client.getLogs({ address: [...params.addresses], fromBlock: start, toBlock: end });
        logs.push(...chunk);
        start = end + 1n;
        if (this.range < this.maxRange) this.range = this.range * 2n > this.maxRange ? this.maxRange : this.range * 2n;
      } catch (cause) {
        if (end === start) {
          throw new RelayerError(`getLogs for block ${start} on chain ${this.client.chain.id} failed: ${shortReason(cause)}`, { cause, retryable: true });
        }
        this.range = (end - start + 1n) / 2n;
      }
    }
    return logs.sort((a, b) => Number((a.blockNumber ?? 0n) - (b.blockNumber ?? 0n)) || (a.logIndex ?? 0) - (b.logIndex ?? 0));
  }
}
