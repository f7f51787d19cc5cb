import { BlockNotFoundError, type Address, type Chain, type Hash, type Log, type PublicClient, type Transport } from 'viem';
import { RelayerError } from '../../relayer/errors.js';
import { LogsInRange } from './logs-in-range.js';

/** The last block whose logs were applied, and its hash (to notice a reorg). */
export interface Checkpoint {
  readonly number: bigint;
  readonly hash: Hash;
}

/** Where a follower's checkpoint lives (Postgres in the node, memory in tests). */
export interface CheckpointStore {
  load(): Promise<Checkpoint | undefined>;
  /** `undefined`: nothing applied any more (a reorg reached below the start block). */
  save(checkpoint: Checkpoint | undefined): Promise<void>;
}

export interface FollowedRange {
  readonly from: bigint;
  readonly to: bigint;
  readonly toHash: Hash;
  /** The timestamp of block `to` (unix seconds): the clock of the state after this range. */
  readonly toTimestamp: bigint;
  /** The chain's head when the range was read: `to` lags it by at least `confirmations`. */
  readonly head: bigint;
  /** The followed contracts' logs in [from, to], in chain order. */
  readonly logs: readonly Log[];
}

/** What the follower drives: the derived state (an account index, say). */
export interface FollowerHandler {
  /** Applies a confirmed range. Must be idempotent: a crash before the checkpoint is saved replays it. */
  apply(range: FollowedRange): Promise<void>;
  /** Forgets everything derived from blocks after `block`: a reorg replaced them. */
  rollbackTo(block: bigint): Promise<void>;
}

export interface BlockFollowerOptions {
  readonly client: PublicClient<Transport, Chain>;
  readonly addresses: readonly Address[];
  /** Only blocks this deep under the head are applied (0 on a devnet). */
  readonly confirmations: number;
  /** The first block that can hold a followed log (the contracts' deployment). */
  readonly startBlock: bigint;
  readonly store: CheckpointStore;
  readonly handler: FollowerHandler;
  /** Largest getLogs range asked for; shrinks when the RPC refuses. */
  readonly maxRange?: bigint;
  /** Most blocks applied in one step, so a long backfill checkpoints as it goes. */
  readonly stepBlocks?: bigint;
  /** How far back a reorg is looked for when no recent hash matches. */
  readonly maxReorgDepth?: bigint;
}

export interface StepResult {
  readonly head: bigint;
  /** The checkpoint after the step (undefined before anything was applied). */
  readonly checkpoint: Checkpoint | undefined;
  /** Set when a reorg was found: derived state was rolled back to this block. */
  readonly rolledBackTo?: bigint;
  /** True when the follower is at the confirmed head. */
  readonly caughtUp: boolean;
}

/**
 * Follows one chain's logs for a set of contracts: backfills from the checkpoint in bounded
 * ranges, then keeps up with new heads, applying only confirmed blocks. Before every step it
 * checks that the checkpoint's block is still canonical; if not, it finds the fork point among
 * the hashes it applied recently, rolls the handler back to it, and replays from there. The
 * checkpoint moves only after the handler has applied the range it covers.
 */
export class BlockFollower {
  private checkpoint: Checkpoint | undefined;
  private loaded = false;
  /** Hashes of recently applied range ends, to find a fork point. */
  private readonly recent = new Map<bigint, Hash>();
  private readonly logs: LogsInRange;
  private readonly stepBlocks: bigint;
  private readonly maxReorgDepth: bigint;

  constructor(private readonly options: BlockFollowerOptions) {
    this.logs = new LogsInRange(options.client, options.maxRange ?? 2_000n);
    this.stepBlocks = options.stepBlocks ?? 10_000n;
    this.maxReorgDepth = options.maxReorgDepth ?? 64n;
  }

  /** One round: handle a reorg if there was one, then apply the next confirmed range. */
  async step(): Promise<StepResult> {
    const { client, confirmations, startBlock } = this.options;
    if (!this.loaded) {
      this.checkpoint = await this.options.store.load();
      if (this.checkpoint) this.recent.set(this.checkpoint.number, this.checkpoint.hash);
      this.loaded = true;
    }
    const head = await client.getBlockNumber({ cacheTime: 0 });
    let rolledBackTo: bigint | undefined;
    if (this.checkpoint && (await this.hashAt(this.checkpoint.number)) !== this.checkpoint.hash) {
      rolledBackTo = await this.rollBack(this.checkpoint.number);
    }
    const safe = head - BigInt(confirmations);
    const from = this.checkpoint ? this.checkpoint.number + 1n : startBlock;
    if (from > safe) return { head, checkpoint: this.checkpoint, caughtUp: true, ...(rolledBackTo === undefined ? {} : { rolledBackTo }) };
    const to = from + this.stepBlocks - 1n < safe ? from + this.stepBlocks - 1n : safe;

    const toBlock = await client.getBlock({ blockNumber: to });
    const fromBlock = from === to ? toBlock : await client.getBlock({ blockNumber: from });
    if (this.checkpoint && fromBlock.parentHash !== this.checkpoint.hash) {
      // The chain moved under us between the check and now: the next step sees the reorg.
      return { head, checkpoint: this.checkpoint, caughtUp: false };
    }
    const logs = await this.logs.fetch({ addresses: this.options.addresses, from, to });
    if ((await this.hashAt(to)) !== toBlock.hash || logs.some((log) => log.blockNumber === to && log.blockHash !== toBlock.hash)) {
      return { head, checkpoint: this.checkpoint, caughtUp: false };
    }
    if (toBlock.hash === null) throw new RelayerError(`block ${to} on chain ${client.chain.id} has no hash`);
    await this.options.handler.apply({ from, to, toHash: toBlock.hash, toTimestamp: toBlock.timestamp, head, logs });
    this.checkpoint = { number: to, hash: toBlock.hash };
    await this.options.store.save(this.checkpoint);
    this.remember(this.checkpoint);
    return { head, checkpoint: this.checkpoint, caughtUp: to === safe, ...(rolledBackTo === undefined ? {} : { rolledBackTo }) };
  }

  /** Steps until caught up with the confirmed head. */
  async catchUp(): Promise<StepResult> {
    for (;;) {
      const result = await this.step();
      if (result.caughtUp) return result;
    }
  }

  /** null when the chain has no such block (any more): a reorg onto a shorter branch. */
  private async hashAt(block: bigint): Promise<Hash | null> {
    try {
      return (await this.options.client.getBlock({ blockNumber: block })).hash;
    } catch (error) {
      if (error instanceof BlockNotFoundError) return null;
      throw error;
    }
  }

  private remember(checkpoint: Checkpoint): void {
    this.recent.set(checkpoint.number, checkpoint.hash);
    for (const number of this.recent.keys()) if (number < checkpoint.number - this.maxReorgDepth) this.recent.delete(number);
  }

  /** Finds the newest applied block still canonical, rolls back to it, and saves it. */
  private async rollBack(below: bigint): Promise<bigint> {
    const candidates = [...this.recent.keys()].filter((n) => n < below).sort((a, b) => (a > b ? -1 : 1));
    let forkPoint: bigint | undefined;
    for (const number of candidates) {
      if ((await this.hashAt(number)) === this.recent.get(number)) {
        forkPoint = number;
        break;
      }
    }
    // No remembered hash survived (say, after a restart): go back as far as a reorg may reach.
    forkPoint ??= below - this.maxReorgDepth;
    if (forkPoint < this.options.startBlock) forkPoint = this.options.startBlock - 1n;
    await this.options.handler.rollbackTo(forkPoint);
    for (const number of [...this.recent.keys()]) if (number > forkPoint) this.recent.delete(number);
    const hash = forkPoint >= this.options.startBlock ? await this.hashAt(forkPoint) : null;
    this.checkpoint = hash === null ? undefined : { number: forkPoint, hash };
    await this.options.store.save(this.checkpoint);
    return forkPoint;
  }
}
