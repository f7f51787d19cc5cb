/** Building blocks for ledger tests: three chains, shortfalls with plans, legs walked through states. */
import { keccak256, toHex, type Address, type Hash } from 'viem';
import type { LedgerDatabase } from '../../../db/client.js';
import type { LegStatus } from '../../../db/leg-state-machine.js';
import {
  recordSettlement,
  recordShortfall,
  registerChains,
  transitionLeg,
  type LegEvidence,
  type PlannedLeg,
  type TransitionLegReturnType,
} from '../../../db/ledger/index.js';

export const ALPHA = 1001;
export const BETA = 1002;
export const GAMMA = 1003;

export const ENGINE: Address = '0x00000000000000000000000000000000000e0001';

export async function seedChains(db: LedgerDatabase): Promise<void> {
  await registerChains(db, [
    { chainId: ALPHA, key: 'alpha', lzEid: 30001, wormholeChainId: 2 },
    { chainId: BETA, key: 'beta', lzEid: 30002, wormholeChainId: 4 },
    { chainId: GAMMA, key: 'gamma', lzEid: 30003, wormholeChainId: 5 },
  ]);
}

/** A deterministic 32-byte value per label (tx hashes, GUIDs). */
export function hashOf(label: string): Hash {
  return keccak256(toHex(label));
}

export function accountOf(n: number): Address {
  return `0x${n.toString(16).padStart(40, 'a')}`;
}

// Far from the episodes report-fixture.ts uses, so the two never name the same shortfall.
let episodes = 1_000_000n;

export interface CreatePlanParameters {
  readonly chainId?: number;
  readonly account?: Address;
  readonly requiredAmount?: bigint;
  readonly coveredAmount?: bigint;
  readonly legs: readonly PlannedLeg[];
  readonly plannedAt?: Date;
  readonly revision?: number;
  /** Plan for an existing shortfall instead of a new one. */
  readonly shortfallId?: Hash;
}

/** Records a shortfall (unless given) and a settlement for it; returns their ids and the legs'. */
export async function createPlan(db: LedgerDatabase, params: CreatePlanParameters) {
  const required = params.requiredAmount ?? params.legs.reduce((sum, leg) => sum + leg.amount, 0n);
  let shortfallId = params.shortfallId;
  if (shortfallId === undefined) {
    episodes += 1n;
    const { shortfall } = await recordShortfall(db, {
      chainId: params.chainId ?? ALPHA,
      engine: ENGINE,
      account: params.account ?? accountOf(1),
      episode: episodes,
      reason: 'breach',
      equity: 100n,
      maintenance: 200n,
      requiredAmount: required,
      detectedBlock: 1n,
      detectedAt: params.plannedAt ?? new Date('2025-03-01T00:00:00Z'),
    });
    shortfallId = shortfall.id;
  }
  const settlement = await recordSettlement(db, {
    shortfallId,
    revision: params.revision ?? 0,
    requiredAmount: required,
    coveredAmount: params.coveredAmount ?? required,
    plannedCostUsd: '1.5',
    plan: { allocations: params.legs.length },
    legs: params.legs,
    ...(params.plannedAt ? { plannedAt: params.plannedAt } : {}),
  });
  return { shortfallId, ...settlement };
}

/** A collateral leg beta -> alpha over LayerZero, the most common shape in tests; relief is its amount unless given. */
export function collateralLeg(amount: bigint, overrides: Partial<PlannedLeg> = {}): PlannedLeg {
  return {
    kind: 'collateral',
    sourceChainId: BETA,
    destinationChainId: ALPHA,
    transport: 'layerzero',
    account: accountOf(1),
    amount,
    ...overrides,
    relief: overrides.relief ?? amount,
  };
}

/** A liquidity leg gamma -> alpha over Wormhole: the vault's margin `amount`, relieving `relief` (twice it unless given). */
export function liquidityLeg(amount: bigint, overrides: Partial<PlannedLeg> = {}): PlannedLeg {
  return {
    kind: 'liquidity',
    sourceChainId: GAMMA,
    destinationChainId: ALPHA,
    transport: 'wormhole',
    account: accountOf(1),
    amount,
    ...overrides,
    relief: overrides.relief ?? amount * 2n,
  };
}

export interface Step {
  readonly to: LegStatus;
  readonly evidence?: LegEvidence;
  readonly error?: string;
}

/** Applies steps in order from the leg's current status; each must apply. */
export async function walk(db: LedgerDatabase, params: { legId: Hash; from: LegStatus; steps: readonly Step[] }) {
  let from = params.from;
  const results: TransitionLegReturnType[] = [];
  for (const step of params.steps) {
    const result = await transitionLeg(db, { legId: params.legId, from, ...step });
    if (result.outcome !== 'applied') throw new Error(`${from} -> ${step.to} lost to a leg at ${result.current}`);
    results.push(result);
    from = step.to;
  }
  return results;
}

/** The shortest legal path from planned to `status`, as steps. */
export function pathTo(status: LegStatus): Step[] {
  const paths: Record<LegStatus, LegStatus[]> = {
    planned: [],
    submitted: ['submitted'],
    sent: ['submitted', 'sent'],
    verified: ['submitted', 'sent', 'verified'],
    delivered: ['submitted', 'sent', 'verified', 'delivered'],
    credited: ['submitted', 'sent', 'verified', 'delivered', 'credited'],
    failed: ['submitted', 'sent', 'failed'],
    refunded: ['submitted', 'sent', 'failed', 'refunded'],
  };
  return paths[status].map((to) => (to === 'failed' ? { to, error: 'test failure' } : { to }));
}
