/**
 * Where each shortfall episode stands for the closed loop, read in one query for a batch of
 * plan jobs: whether it is still open, the account's latest assessment, every revision planned
 * for it with its legs' statuses, the next revision to plan, and how much relief is still in
 * flight toward the account (planned by this episode's settlements, not yet ended).
 */
import { asc, eq, inArray } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { hasLegEnded, type LegStatus } from '../leg-state-machine.js';
import type { Transport } from '../schema/enums.js';
import { legs, type LegKind } from '../schema/legs.js';
import { settlements } from '../schema/settlements.js';
import { shortfalls } from '../schema/shortfalls.js';

/** The account as last assessed while the episode was open (at first: its report). */
export interface EpisodeAssessment {
  readonly requiredAmount: bigint;
  readonly equity: bigint;
  readonly maintenance: bigint;
  /** The effective maintenance fraction (1 = 100%); null when the report did not carry one. */
  readonly mEff: number | null;
  /** m_eff (1 + target) per market id (1 = 100%); empty when the report carried none. */
  readonly targetFractions: Readonly<Record<string, number>>;
  /** The watcher's EWMA sigma per market id (per square root of a second); empty when the report carried none. */
  readonly sigmas: Readonly<Record<string, number>>;
  readonly block: bigint;
  readonly at: Date;
}

/** A leg of a revision, as the closed loop needs it: where from, how, and how far along. */
export interface EpisodeLeg {
  readonly id: Hash;
  readonly kind: LegKind;
  readonly sourceChainId: number;
  readonly transport: Transport | null;
  readonly status: LegStatus;
  readonly relief: bigint;
  readonly createdAt: Date;
}

export interface EpisodeRevision {
  readonly revision: number;
  readonly settlementId: Hash;
  /** In leg index order; `legStatuses` is parallel to it. */
  readonly legIds: readonly Hash[];
  readonly legStatuses: readonly LegStatus[];
  readonly legs: readonly EpisodeLeg[];
  /** Some leg of it has not ended (credited, failed or refunded). */
  readonly active: boolean;
}

export interface EpisodeState {
  readonly chainId: number;
  readonly engine: Address;
  readonly account: Address;
  readonly episode: bigint;
  readonly open: boolean;
  readonly latestAssessment: EpisodeAssessment;
  /** In revision order. */
  readonly revisions: readonly EpisodeRevision[];
  /** One past the highest revision recorded; 0 when none is. */
  readonly nextRevision: number;
  /**
   * Sum of `relief` of the account's legs toward the episode's chain, over all of the
   * episode's settlements, that have not ended: what is on its way and not yet in the account.
   */
  readonly inFlightRelief: bigint;
}

/** Shortfalls the ledger does not have are absent from the map. */
export async function episodeStates(db: LedgerExecutor, ids: readonly Hash[]): Promise<Map<Hash, EpisodeState>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({
      id: shortfalls.id,
      status: shortfalls.status,
      chainId: shortfalls.chainId,
      engine: shortfalls.engine,
      account: shortfalls.account,
      episode: shortfalls.episode,
      requiredAmount: shortfalls.requiredAmount,
      equity: shortfalls.equity,
      maintenance: shortfalls.maintenance,
      detectedBlock: shortfalls.detectedBlock,
      detectedAt: shortfalls.detectedAt,
      latestRequiredAmount: shortfalls.latestRequiredAmount,
      latestEquity: shortfalls.latestEquity,
      latestMaintenance: shortfalls.latestMaintenance,
      latestMEff: shortfalls.latestMEff,
      latestTargetFractions: shortfalls.latestTargetFractions,
      latestSigmas: shortfalls.latestSigmas,
      latestBlock: shortfalls.latestBlock,
      latestAt: shortfalls.latestAt,
      settlementId: settlements.id,
      revision: settlements.revision,
      legId: legs.id,
      legStatus: legs.status,
      legKind: legs.kind,
      legSource: legs.sourceChainId,
      legTransport: legs.transport,
      legCreatedAt: legs.createdAt,
      legAccount: legs.account,
      legDestination: legs.destinationChainId,
      relief: legs.relief,
    })
    .from(shortfalls)
    .leftJoin(settlements, eq(settlements.shortfallId, shortfalls.id))
    .leftJoin(legs, eq(legs.settlementId, settlements.id))
    .where(inArray(shortfalls.id, [...ids]))
    .orderBy(asc(shortfalls.id), asc(settlements.revision), asc(legs.legIndex));

  const states = new Map<Hash, { state: Omit<EpisodeState, 'revisions' | 'nextRevision' | 'inFlightRelief'>; revisions: Map<Hash, MutableRevision>; inFlight: bigint }>();
  for (const row of rows) {
    let entry = states.get(row.id);
    if (!entry) {
      entry = {
        state: {
          chainId: row.chainId,
          engine: row.engine,
          account: row.account,
          episode: row.episode,
          open: row.status === 'open',
          // Every row has its latest assessment (migration 0006); the report is the fallback all the same.
          latestAssessment: {
            requiredAmount: row.latestRequiredAmount ?? row.requiredAmount,
            equity: row.latestEquity ?? row.equity,
            maintenance: row.latestMaintenance ?? row.maintenance,
            mEff: row.latestMEff,
            targetFractions: row.latestTargetFractions ?? {},
            sigmas: row.latestSigmas ?? {},
            block: row.latestBlock ?? row.detectedBlock,
            at: row.latestAt ?? row.detectedAt,
          },
        },
        revisions: new Map(),
        inFlight: 0n,
      };
      states.set(row.id, entry);
    }
    if (row.settlementId === null || row.revision === null) continue;
    let revision = entry.revisions.get(row.settlementId);
    if (!revision) {
      revision = { revision: row.revision, settlementId: row.settlementId, legIds: [], legStatuses: [], legs: [], active: false };
      entry.revisions.set(row.settlementId, revision);
    }
    if (row.legId === null || row.legStatus === null || row.legKind === null || row.legSource === null || row.legCreatedAt === null) continue;
    revision.legIds.push(row.legId);
    revision.legStatuses.push(row.legStatus);
    revision.legs.push({ id: row.legId, kind: row.legKind, sourceChainId: row.legSource, transport: row.legTransport, status: row.legStatus, relief: row.relief ?? 0n, createdAt: row.legCreatedAt });
    if (hasLegEnded(row.legStatus)) continue;
    revision.active = true;
    if (row.legAccount === row.account && row.legDestination === row.chainId) entry.inFlight += row.relief ?? 0n;
  }
  return new Map(
    [...states].map(([id, { state, revisions, inFlight }]) => {
      const ordered = [...revisions.values()];
      const last = ordered.at(-1);
      return [id, { ...state, revisions: ordered, nextRevision: last === undefined ? 0 : last.revision + 1, inFlightRelief: inFlight }];
    }),
  );
}

interface MutableRevision {
  readonly revision: number;
  readonly settlementId: Hash;
  readonly legIds: Hash[];
  readonly legStatuses: LegStatus[];
  readonly legs: EpisodeLeg[];
  active: boolean;
}
