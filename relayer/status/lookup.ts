import { and, asc, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Hash } from 'viem';
import {
  episodeStates,
  legEvents,
  legs,
  messages,
  reservationSourceOf,
  settlements,
  shortfalls,
  type LedgerExecutor,
  type Settlement,
} from '../../db/index.js';

export async function settlementById(db: LedgerExecutor, id: Hash) {
  const [settlement] = await db.select().from(settlements).where(eq(settlements.id, id));
  if (!settlement) return undefined;
  const legRows = await db.select().from(legs).where(eq(legs.settlementId, id)).orderBy(asc(legs.legIndex));
  // The status is the settlement-status report's, so the API and the auditors agree.
  const [view] = (await db.execute<{ status: string }>(sql`select status from report_settlement_status where settlement_id = ${id}`)).rows;
  return { settlement, status: view?.status ?? 'planned', legs: legRows };
}

/**
 * A shortfall episode for operators: its row, its settlement ids, the account's latest
 * assessment, the relief still in flight, and every revision with its legs (what each moves
 * and what it relieves), in revision order.
 */
export async function shortfallById(db: LedgerExecutor, id: Hash) {
  const [shortfall] = await db.select().from(shortfalls).where(eq(shortfalls.id, id));
  if (!shortfall) return undefined;
  const plans: Settlement[] = await db.select().from(settlements).where(eq(settlements.shortfallId, id)).orderBy(asc(settlements.revision));
  const legRows =
    plans.length === 0
      ? []
      : await db.select().from(legs).where(inArray(legs.settlementId, plans.map((plan) => plan.id))).orderBy(asc(legs.legIndex));
  const state = (await episodeStates(db, [id])).get(id);
  const active = new Map(state?.revisions.map((revision) => [revision.settlementId, revision.active]) ?? []);
  return {
    shortfall,
    settlements: plans.map((s) => s.id),
    latestAssessment: state?.latestAssessment ?? null,
    inFlightRelief: state?.inFlightRelief ?? 0n,
    nextRevision: state?.nextRevision ?? 0,
    revisions: plans.map((plan) => ({
      revision: plan.revision,
      settlementId: plan.id,
      requiredAmount: plan.requiredAmount,
      coveredAmount: plan.coveredAmount,
      uncoveredAmount: plan.uncoveredAmount,
      plannedCostUsd: plan.plannedCostUsd,
      createdAt: plan.createdAt,
      active: active.get(plan.id) ?? false,
      legs: legRows
        .filter((leg) => leg.settlementId === plan.id)
        .map((leg) => ({
          id: leg.id,
          index: leg.legIndex,
          kind: leg.kind,
          sourceChainId: leg.sourceChainId,
          // What the leg draws on: a vault, the account's surplus, or (local) the chain's market.
          source: reservationSourceOf(leg)?.source ?? 'market',
          destinationChainId: leg.destinationChainId,
          transport: leg.transport,
          amount: leg.amount,
          relief: leg.relief,
          status: leg.status,
        })),
    })),
  };
}

export async function legById(db: LedgerExecutor, id: Hash) {
  const [leg] = await db.select().from(legs).where(eq(legs.id, id));
  if (!leg) return undefined;
  const events = await db.select().from(legEvents).where(eq(legEvents.legId, id)).orderBy(asc(legEvents.seq));
  return { leg, events };
}

export async function messageById(db: LedgerExecutor, id: string) {
  const [message] = await db.select().from(messages).where(eq(messages.id, id));
  if (!message) return undefined;
  const [leg] = message.legId ? await db.select().from(legs).where(eq(legs.id, message.legId)) : [];
  return { message, leg: leg ?? null };
}

export interface ShortfallQuery {
  readonly chainId?: number;
  readonly account?: string;
  readonly status?: 'open' | 'closed';
  readonly limit: number;
  /** The last row of the previous page: newest first, ties broken by id. */
  readonly after?: { readonly detectedAt: Date; readonly id: string };
}

/**
 * An instant as Postgres reads it, whatever its year: `toISOString` (what the ledger's columns
 * send) writes a year past 9999 as `+010000` and one before 1 as `0000` or `-000001`, which
 * Postgres refuses; it reads `10000-...` and `0001-... BC`.
 */
function postgresInstant(instant: Date): SQL {
  const year = instant.getUTCFullYear();
  const iso = instant.toISOString();
  if (year >= 1 && year <= 9999) return sql`${iso}::timestamptz`;
  const rest = iso.replace(/^[+-]?[0-9]+/, '');
  return sql`${year < 1 ? `${String(1 - year).padStart(4, '0')}${rest} BC` : `${year}${rest}`}::timestamptz`;
}

/** A page of shortfalls, newest first; `next` is where the following page starts. */
export async function listShortfalls(db: LedgerExecutor, query: ShortfallQuery) {
  const filters: (SQL | undefined)[] = [
    query.chainId === undefined ? undefined : eq(shortfalls.chainId, query.chainId),
    query.account === undefined ? undefined : eq(shortfalls.account, query.account.toLowerCase() as Hash),
    query.status === undefined ? undefined : eq(shortfalls.status, query.status),
    query.after === undefined
      ? undefined
      : or(sql`${shortfalls.detectedAt} < ${postgresInstant(query.after.detectedAt)}`, and(sql`${shortfalls.detectedAt} = ${postgresInstant(query.after.detectedAt)}`, lt(shortfalls.id, query.after.id as Hash))),
  ];
  const rows = await db
    .select()
    .from(shortfalls)
    .where(and(...filters))
    .orderBy(desc(shortfalls.detectedAt), desc(shortfalls.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { shortfalls: page, next: rows.length > query.limit && last ? { detectedAt: last.detectedAt, id: last.id } : undefined };
}
