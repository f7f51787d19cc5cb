/**
 * Shared inventory: what the sources (a vault per chain, an account's surplus per chain) have
 * promised to plans that are still running. A reservation is not a row of its own: it is the
 * leg itself, from when it is planned until it ends (credited, failed or refunded; see
 * LEG_ENDED_STATUSES), so it is taken in the transaction that records the plan and released by
 * the leg's own transition, and nothing can drift from the legs.
 *
 * Capacity is read on chain at some block B, and the chain's balance drops when the source
 * burns (the leg is `sent`, at `source_block`). So at B a source has committed
 *   the amount of its unended legs that are planned or submitted, or burned after B
 * (a burned leg with no recorded block counts, to be safe): what a read at B still shows as
 * available but is promised. `recordSettlements` checks a leg's reservation against it, under a
 * transaction-scoped advisory lock per source (taken in one order, so writers cannot deadlock).
 */
import { sql } from 'drizzle-orm';
import { keccak256, toHex, type Address } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { LedgerError } from '../errors.js';
import { LEG_ENDED_STATUSES } from '../leg-state-machine.js';
import { bigintFromDriver } from '../schema/columns.js';
import type { LegKind } from '../schema/legs.js';

export const RESERVATION_SOURCES = ['vault', 'surplus'] as const;
/** `vault`: protocol liquidity on a chain (liquidity legs); `surplus`: an account's own collateral there (collateral legs). */
export type ReservationSourceKind = (typeof RESERVATION_SOURCES)[number];

export interface ReservationSource {
  readonly sourceChainId: number;
  readonly source: ReservationSourceKind;
  /** Whose surplus: required for `surplus`, not part of a vault's key. */
  readonly account?: Address;
}

/** A source as read on chain at `observedBlock`. */
export interface ReservationRead extends ReservationSource {
  readonly observedBlock: bigint;
}

/** The source a leg draws from, or undefined for a `local` or `auction` leg (it moves nothing between chains). */
export function reservationSourceOf(leg: { readonly kind: LegKind; readonly sourceChainId: number; readonly account: Address }): ReservationSource | undefined {
  switch (leg.kind) {
    case 'liquidity':
      return { sourceChainId: leg.sourceChainId, source: 'vault' };
    case 'collateral':
      return { sourceChainId: leg.sourceChainId, source: 'surplus', account: leg.account };
    case 'local':
    case 'auction':
      return undefined;
  }
}

/** One spelling per source: `<chain>/vault` or `<chain>/surplus/<account, lower-case>`. */
export function reservationKey(source: ReservationSource): string {
  if (source.source === 'vault') return `${source.sourceChainId}/vault`;
  if (source.account === undefined) throw new LedgerError(`a surplus on chain ${source.sourceChainId} names no account`);
  return `${source.sourceChainId}/surplus/${source.account.toLowerCase()}`;
}

/**
 * The first key of the two-key advisory locks (`pg_advisory_xact_lock(int4, int4)`) on sources:
 * apart from the migrator's one-key lock and from any other user's namespace ("RSRV").
 */
export const RESERVATION_LOCK_NAMESPACE = 0x52535256;

/** The second key: 32 bits of the source key's keccak. Two sources sharing one only wait for each other. */
export function reservationLockId(key: string): number {
  return Number.parseInt(keccak256(toHex(key)).slice(2, 10), 16) | 0;
}

/**
 * Takes the transaction-scoped lock of each source, in ascending lock id, so that every writer
 * takes them in the same order. Held until the caller's transaction ends: call inside one.
 */
export async function lockReservationSources(tx: LedgerExecutor, sources: readonly ReservationSource[]): Promise<void> {
  const ids = [...new Set(sources.map((source) => reservationLockId(reservationKey(source))))].sort((a, b) => a - b);
  if (ids.length === 0) return;
  await tx.execute(
    sql`select pg_advisory_xact_lock(${RESERVATION_LOCK_NAMESPACE}::int4, u.k)
        from unnest(${sql.param(ids.map(String))}::text[]::int4[]) with ordinality as u(k, n) order by u.n`,
  );
}

const ENDED = sql.raw(LEG_ENDED_STATUSES.map((status) => `'${status}'`).join(', '));

/**
 * What each source has committed at its observed block (see the top of this file), in the
 * order given, in one query: capacity read on chain at that block minus this is what a new plan
 * may still take. Sees every committed transaction's legs (and the caller's own, inside its).
 */
export async function reservedOnSources(db: LedgerExecutor, sources: readonly ReservationRead[]): Promise<bigint[]> {
  if (sources.length === 0) return [];
  for (const source of sources) {
    if (source.observedBlock < 0n) throw new LedgerError(`a capacity read at block ${source.observedBlock}: blocks are not negative`);
    reservationKey(source); // a surplus must name its account
  }
  const result = await db.execute<{ committed: string }>(sql`
    select coalesce(sum(l.amount), 0)::text as committed
    from unnest(
      ${sql.param(sources.map((s) => String(s.sourceChainId)))}::text[]::bigint[],
      ${sql.param(sources.map((s) => s.source))}::text[],
      ${sql.param(sources.map((s) => (s.source === 'surplus' ? (s.account ?? '').toLowerCase() : null)))}::text[],
      ${sql.param(sources.map((s) => s.observedBlock.toString()))}::text[]::bigint[]
    ) with ordinality as q(chain_id, source, account, block, n)
    left join legs l
      on l.source_chain_id = q.chain_id
     and l.kind in ('collateral', 'liquidity')
     and l.status not in (${ENDED})
     and l.kind = (case q.source when 'vault' then 'liquidity' else 'collateral' end)::leg_kind
     and (q.source = 'vault' or l.account = q.account)
     and (l.status in ('planned', 'submitted') or l.source_block is null or l.source_block > q.block)
    group by q.n
    order by q.n`);
  return result.rows.map((row) => bigintFromDriver(row.committed));
}
