import type { Address } from 'viem';

/** An account's latest shortfall episode, as the ledger holds it. */
export interface Episode {
  readonly episode: bigint;
  readonly open: boolean;
  /** The block whose state opened it. */
  readonly detectedBlock: bigint;
  /** Insurance cover the account had received when it opened: the episode's bad debt is what came after. */
  readonly coveredBefore: bigint;
}

export interface EpisodeOpen {
  readonly account: Address;
  readonly episode: bigint;
}

export interface EpisodeClose {
  readonly account: Address;
  readonly episode: Episode;
  /** Opened in a block a reorg has since removed, and not at risk on the canonical chain. */
  readonly orphaned: boolean;
}

export interface EpisodeDecision {
  readonly opens: readonly EpisodeOpen[];
  readonly closes: readonly EpisodeClose[];
}

/**
 * Episode numbering per account (DESIGN.md section 7): an account that becomes at risk opens
 * episode n + 1 (n its latest, 0 if none); one that is no longer at risk closes its open
 * episode. The book holds what the ledger holds; decisions are pure and applied only once the
 * ledger has committed them.
 */
export class EpisodeBook {
  readonly #latest = new Map<Address, Episode>();

  constructor(latest: Iterable<readonly [Address, Episode]> = []) {
    for (const [account, episode] of latest) this.#latest.set(account, episode);
  }

  get(account: Address): Episode | undefined {
    return this.#latest.get(account);
  }

  /** Accounts with an open episode, and the episode. */
  open(): [Address, Episode][] {
    return [...this.#latest].filter(([, episode]) => episode.open);
  }

  get openCount(): number {
    let count = 0;
    for (const episode of this.#latest.values()) if (episode.open) count += 1;
    return count;
  }

  /** What the at-risk verdicts of `accounts` mean for their episodes. */
  decide(params: { accounts: Iterable<Address>; isAtRisk: (account: Address) => boolean; suspects: ReadonlySet<Address> }): EpisodeDecision {
    const opens: EpisodeOpen[] = [];
    const closes: EpisodeClose[] = [];
    for (const account of params.accounts) {
      const latest = this.#latest.get(account);
      const atRisk = params.isAtRisk(account);
      if (atRisk && latest?.open !== true) opens.push({ account, episode: (latest?.episode ?? 0n) + 1n });
      if (!atRisk && latest?.open === true) closes.push({ account, episode: latest, orphaned: params.suspects.has(account) });
    }
    return { opens, closes };
  }

  /** Records a decision the ledger has committed. */
  apply(decision: EpisodeDecision, opened: { block: bigint; coveredBefore: (account: Address) => bigint }): void {
    for (const close of decision.closes) this.#latest.set(close.account, { ...close.episode, open: false });
    for (const open of decision.opens) {
      this.#latest.set(open.account, { episode: open.episode, open: true, detectedBlock: opened.block, coveredBefore: opened.coveredBefore(open.account) });
    }
  }
}
