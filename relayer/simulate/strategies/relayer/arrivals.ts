/**
 * Value in flight between chains: a leg sent at one step is usable on the account's home chain
 * at the first step at or after its transport's latency, never in the step it left.
 */
export interface Arrival {
  readonly account: number;
  readonly kind: 'collateral' | 'liquidity';
  /** The required amount this leg was planned to cover, USD. */
  readonly relief: number;
  /** USD that left the source chain: the account's surplus, or the vault's liquidity. */
  readonly amount: number;
}

export class ArrivalQueue {
  private readonly byStep = new Map<number, Arrival[]>();

  schedule(params: { sentAt: number; latencySeconds: number; stepSeconds: number; arrival: Arrival }): void {
    const step = params.sentAt + Math.max(1, Math.ceil(params.latencySeconds / params.stepSeconds - 1e-9));
    const due = this.byStep.get(step);
    if (due) due.push(params.arrival);
    else this.byStep.set(step, [params.arrival]);
  }

  /** The arrivals due at `step`, in the order they were sent; they leave the queue. */
  take(step: number): readonly Arrival[] {
    const due = this.byStep.get(step) ?? [];
    this.byStep.delete(step);
    return due;
  }
}
