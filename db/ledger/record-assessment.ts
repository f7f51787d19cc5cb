/**
 * Moves an open episode's latest assessment forward: what the watcher computed for the account
 * at a later block than the one stored (the report's, at first). A closed episode keeps the
 * assessment it closed with; an older or same-block assessment changes nothing, so replays and
 * two nodes racing are harmless. Usable inside a caller's transaction (the watcher's commit).
 */
import { sql } from 'drizzle-orm';
import type { Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { LedgerError } from '../errors.js';
import { shortfalls } from '../schema/shortfalls.js';
import { hexValue, inIdOrder, instantValue, integerValue } from './bulk-insert.js';

export interface AssessmentRecord {
  readonly shortfallId: Hash;
  /** What restores the account's target health now, collateral base units. */
  readonly requiredAmount: bigint;
  /** May be negative. */
  readonly equity: bigint;
  readonly maintenance: bigint;
  /** The effective maintenance fraction used (1 = 100%): the largest of the account's markets. */
  readonly mEff: number;
  /** m_eff (1 + target) per market id of the account (1 = 100%): what the required amount restores. */
  readonly targetFractions: Readonly<Record<string, number>>;
  /** The watcher's EWMA sigma per market id of the account, per square root of a second (none: empty). */
  readonly sigmas?: Readonly<Record<string, number>>;
  /** The block the account was read at. */
  readonly block: bigint;
  readonly at: Date;
}

/** Returns the ids whose assessment this call moved forward. */
export async function recordAssessments(db: LedgerExecutor, rows: readonly AssessmentRecord[]): Promise<Hash[]> {
  if (rows.length === 0) return [];
  for (const row of rows) {
    if (!Number.isFinite(row.mEff) || row.mEff < 0) throw new LedgerError(`assessment of shortfall ${row.shortfallId}: mEff must be a finite non-negative number, got ${row.mEff}`);
    for (const [market, fraction] of Object.entries(row.targetFractions)) {
      if (!Number.isFinite(fraction) || fraction < 0) throw new LedgerError(`assessment of shortfall ${row.shortfallId}: the target fraction of market ${market} must be a finite non-negative number, got ${fraction}`);
    }
    for (const [market, sigma] of Object.entries(row.sigmas ?? {})) {
      if (!Number.isFinite(sigma) || sigma < 0) throw new LedgerError(`assessment of shortfall ${row.shortfallId}: the sigma of market ${market} must be a finite non-negative number, got ${sigma}`);
    }
    if (row.block < 0n) throw new LedgerError(`assessment of shortfall ${row.shortfallId}: block ${row.block} is negative`);
  }
  // One row per episode, its latest; in id order, so concurrent writers lock rows alike.
  const latest = new Map<string, AssessmentRecord>();
  for (const row of rows) {
    const id = row.shortfallId.toLowerCase();
    const seen = latest.get(id);
    if (seen === undefined || row.block >= seen.block) latest.set(id, row);
  }
  const ordered = inIdOrder([...latest].map(([id, row]) => ({ id, row })));
  const column = (values: readonly (string | null)[], type: string) => sql`${sql.param(values)}::text[]::${sql.raw(type)}[]`;
  const updated = await db.execute<{ id: Hash }>(sql`
    update ${shortfalls} s set
      latest_required_amount = v.required_amount,
      latest_equity = v.equity,
      latest_maintenance = v.maintenance,
      latest_m_eff = v.m_eff,
      latest_target_fractions = v.target_fractions,
      latest_sigmas = v.sigmas,
      latest_block = v.block,
      latest_at = v.at
    from unnest(
      ${column(ordered.map(({ id }) => hexValue(id)), 'text')},
      ${column(ordered.map(({ row }) => integerValue(row.requiredAmount)), 'numeric')},
      ${column(ordered.map(({ row }) => integerValue(row.equity)), 'numeric')},
      ${column(ordered.map(({ row }) => integerValue(row.maintenance)), 'numeric')},
      ${column(ordered.map(({ row }) => String(row.mEff)), 'double precision')},
      ${column(ordered.map(({ row }) => JSON.stringify(row.targetFractions)), 'jsonb')},
      ${column(ordered.map(({ row }) => JSON.stringify(row.sigmas ?? {})), 'jsonb')},
      ${column(ordered.map(({ row }) => integerValue(row.block)), 'bigint')},
      ${column(ordered.map(({ row }) => instantValue(row.at)), 'timestamptz')}
    ) as v(id, required_amount, equity, maintenance, m_eff, target_fractions, sigmas, block, at)
    where s.id = v.id and s.status = 'open' and (s.latest_block is null or s.latest_block < v.block)
    returning s.id`);
  return updated.rows.map((row) => row.id);
}
