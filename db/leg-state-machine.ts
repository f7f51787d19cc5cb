/**
 * The leg state machine: the one place in code that says which status may follow which.
 * Migration 0001 seeds the same edges into `leg_transitions`, which the database's trigger
 * enforces; test/db/leg-transitions.test.ts proves the two agree edge by edge.
 *
 *   planned ─> submitted ─> sent ─> verified ─> delivered ─> credited
 *      │           │          │        │
 *      └───────────┴──────────┴────────┴──> failed ─> refunded (only if value left the source)
 *
 * Why these edges, read as an auditor:
 * - Forward one step at a time, never back and never skipping: every observation (tx mined,
 *   packet verified, message executed) is its own event with its own evidence. A worker that
 *   recovers after a crash walks the missing steps from what it reads on chain.
 * - `failed` is reachable from every state before `delivered`. Once the destination executed
 *   the message the tokens exist there: failing (and so refunding) after that would mint twice.
 *   Crediting happens in the same destination transaction, so `delivered -> credited` is
 *   confirmation, not a new side effect that could fail.
 * - `refunded` only follows `failed`, and only when the leg failed after the source chain
 *   burned the amount (failed from `sent` or `verified`). A leg that failed at `planned` or
 *   `submitted` moved nothing: a refund there would create money.
 * - A `local` or `auction` leg never leaves its chain: it waits at `submitted` (an auction until a
 *   keeper takes it) and walks `sent` to `credited` on the one transaction that closed it, or fails
 *   from `submitted`, so nothing is ever owed back for it.
 * - `credited` and `refunded` are final. There are no cycles, so "status is still X" is a
 *   sound compare-and-set for racing workers (no ABA).
 */
export const LEG_STATUSES = [
  'planned',
  'submitted',
  'sent',
  'verified',
  'delivered',
  'credited',
  'failed',
  'refunded',
] as const;

export type LegStatus = (typeof LEG_STATUSES)[number];

export const LEG_TRANSITIONS: Readonly<Record<LegStatus, readonly LegStatus[]>> = {
  planned: ['submitted', 'failed'],
  submitted: ['sent', 'failed'],
  sent: ['verified', 'failed'],
  verified: ['delivered', 'failed'],
  delivered: ['credited'],
  credited: [],
  failed: ['refunded'],
  refunded: [],
};

/** The statuses a leg may have failed from and still be refunded: the amount left the source. */
export const REFUNDABLE_FAILED_FROM: readonly LegStatus[] = ['sent', 'verified'];

/** Statuses in which the amount has been burned on the source and not yet minted on the destination. */
export const IN_FLIGHT_STATUSES: readonly LegStatus[] = ['sent', 'verified'];

/**
 * Statuses in which a leg has ended for the plan that made it: `credited` (it arrived and
 * counts in the account), `failed` (whatever it burned is owed back by a refund, never
 * delivered), `refunded`. An ended leg holds no reservation on its source and is not in flight
 * toward the account (db/ledger/reservations.ts, db/ledger/episode-state.ts).
 */
export const LEG_ENDED_STATUSES: readonly LegStatus[] = ['credited', 'failed', 'refunded'];

export function hasLegEnded(status: LegStatus): boolean {
  return LEG_ENDED_STATUSES.includes(status);
}

export function isLegStatus(value: string): value is LegStatus {
  return (LEG_STATUSES as readonly string[]).includes(value);
}

export function isLegalTransition(from: LegStatus, to: LegStatus): boolean {
  return LEG_TRANSITIONS[from].includes(to);
}

export function isTerminal(status: LegStatus): boolean {
  return LEG_TRANSITIONS[status].length === 0;
}

/** Why `from -> to` is not an edge of the machine, or undefined when it is. */
export function edgeRefusal(from: LegStatus, to: LegStatus): string | undefined {
  if (isLegalTransition(from, to)) return undefined;
  const allowed = LEG_TRANSITIONS[from];
  return `${from} -> ${to} is not a leg transition (from ${from}: ${allowed.length ? allowed.join(', ') : 'none, it is final'})`;
}

/** Why a failed leg may not be refunded, or undefined when a refund is owed. */
export function refundRefusal(failedFrom: LegStatus | null): string | undefined {
  if (failedFrom !== null && REFUNDABLE_FAILED_FROM.includes(failedFrom)) return undefined;
  return `it failed from ${failedFrom ?? 'an unknown status'}: nothing left its source chain, so nothing is owed back`;
}

/** Why this leg (its status and, if failed, what it failed from) may not move to `to`. */
export function transitionRefusal(params: { from: LegStatus; to: LegStatus; failedFrom: LegStatus | null }): string | undefined {
  return edgeRefusal(params.from, params.to) ?? (params.to === 'refunded' ? refundRefusal(params.failedFrom) : undefined);
}
