import type { Lease } from './lease.js';

/**
 * Holds a lease for as long as it can: renews it every third of its TTL and knows, by its own
 * clock, until when the lease is surely ours. The validity counts from before each request
 * was sent and stops a tenth of the TTL early, so clock drift and a slow Redis answer make this
 * node give up before another can take over, never after.
 *
 * A clock cannot fence a node that was paused past its TTL, so each acquisition also claims a
 * new epoch (`claimEpoch`, kept where the writes go): the writes carry it, and whatever this
 * node's clock says, the store refuses them once a later epoch was claimed.
 */
export class LeaseKeeper {
  readonly #lease: Lease;
  readonly #claimEpoch: () => Promise<bigint>;
  readonly #onLost: (reason: string) => void;
  #epoch: bigint | undefined;
  #validUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #renewing = false;
  /** Counts acquisitions and releases: a renewal answered after a release must not revive the lease. */
  #term = 0;

  constructor(params: { lease: Lease; claimEpoch: () => Promise<bigint>; onLost: (reason: string) => void }) {
    this.#lease = params.lease;
    this.#claimEpoch = params.claimEpoch;
    this.#onLost = params.onLost;
  }

  get lease(): Lease {
    return this.#lease;
  }

  /** True while the lease is ours by the last acquire or renewal. */
  get held(): boolean {
    return Date.now() < this.#validUntil;
  }

  /** The epoch of this term while the lease is held by this node's clock, else undefined. */
  get epoch(): bigint | undefined {
    return this.held ? this.#epoch : undefined;
  }

  /** Tries once to take the lease and claim its next epoch; on success keeps renewing it until released or lost. */
  async acquire(): Promise<boolean> {
    const sent = Date.now();
    if (!(await this.#lease.acquire())) return false;
    try {
      this.#epoch = await this.#claimEpoch();
    } catch (error) {
      await this.#lease.release().catch(() => undefined); // it expires by itself otherwise; the claim's error is the one to report
      throw error;
    }
    this.#term += 1;
    this.#validUntil = sent + this.#margin();
    this.#timer ??= setInterval(() => void this.#renew(), Math.max(10, Math.floor(this.#lease.ttlMs / 3)));
    return true;
  }

  /** Stops renewing and gives the lease up (if still ours); safe to call twice. */
  async release(): Promise<void> {
    this.#term += 1;
    this.#stop();
    this.#validUntil = 0;
    this.#epoch = undefined;
    await this.#lease.release();
  }

  async #renew(): Promise<void> {
    if (this.#renewing) return;
    this.#renewing = true;
    const sent = Date.now();
    const term = this.#term;
    try {
      const renewed = await this.#lease.renew();
      if (term !== this.#term) return;
      if (renewed) this.#validUntil = sent + this.#margin();
      else this.#lose('another node holds the lease');
    } catch (error) {
      // Redis unreachable: the lease may still be ours until it expires; past that, it is not.
      if (term === this.#term && !this.held) this.#lose(`renewal failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.#renewing = false;
    }
  }

  #lose(reason: string): void {
    this.#term += 1;
    this.#stop();
    this.#validUntil = 0;
    this.#epoch = undefined;
    this.#onLost(reason);
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #margin(): number {
    return Math.floor(this.#lease.ttlMs * 0.9);
  }
}
