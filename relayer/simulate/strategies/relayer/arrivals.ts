/**
 * Value in flight between chains: a leg sent at one step lands on the account's home chain at
 * the first step at or after its transport's latency, never in the step it left. Each account
 * keeps its legs in flight, which its snapshot reports to the decision core (relief and eta).
 */
export type Arrival =
  | {
      readonly kind: 'collateral';
      readonly account: number;
      readonly dueStep: number;
      /** The part of the required amount the core meant it to cover, base units. */
      readonly relief: bigint;
      /** USD of the account's surplus that left the source chain. */
      readonly amount: number;
    }
  | {
      readonly kind: 'liquidity';
      readonly account: number;
      readonly dueStep: number;
      readonly relief: bigint;
      /** USD of the vault's reserve that left the source chain: the backstop's margin on landing. */
      readonly amount: number;
      /** Market index and the most size (asset units, unsigned) the backstop absorbs on landing. */
      readonly market: number;
      readonly size: number;
    };

/** Whole steps until a leg of `latencySeconds` is usable: at least one. */
export function stepsFor(latencySeconds: number, stepSeconds: number): number {
  return Math.max(1, Math.ceil(latencySeconds / stepSeconds - 1e-9));
}

export class ArrivalQueue {
  private readonly byStep = new Map<number, Arrival[]>();
  private readonly byAccount = new Map<number, Arrival[]>();

  schedule(arrival: Arrival): void {
    const due = this.byStep.get(arrival.dueStep);
    if (due) due.push(arrival);
    else this.byStep.set(arrival.dueStep, [arrival]);
    const legs = this.byAccount.get(arrival.account);
    if (legs) legs.push(arrival);
    else this.byAccount.set(arrival.account, [arrival]);
  }

  /** The account's legs still in flight, in the order they were sent. */
  inFlight(account: number): readonly Arrival[] {
    return this.byAccount.get(account) ?? [];
  }

  /** The arrivals due at `step`, in the order they were sent; they leave the queue. */
  take(step: number): readonly Arrival[] {
    const due = this.byStep.get(step) ?? [];
    this.byStep.delete(step);
    for (const arrival of due) {
      const legs = this.byAccount.get(arrival.account);
      if (legs === undefined) continue;
      const rest = legs.filter((leg) => leg !== arrival);
      if (rest.length === 0) this.byAccount.delete(arrival.account);
      else this.byAccount.set(arrival.account, rest);
    }
    return due;
  }
}
