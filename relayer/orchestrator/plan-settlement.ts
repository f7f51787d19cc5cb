import type { Hash } from 'viem';
import { recordSettlement, type LedgerExecutor, type PlannedLeg, type RecordSettlementParameters, type RecordSettlementReturnType } from '../../db/index.js';
import { RelayerError } from '../errors.js';
import { plan } from '../planner/plan.js';
import type { Plan } from '../planner/types.js';
import type { ShortfallReport } from './shortfall-report.js';
import { optionId, type SourcingOption } from './sourcing-option.js';

/** Collateral is a 6-decimal USD stablecoin: one USD is 10^6 base units. */
const BASE_UNITS_PER_USD = 1_000_000;

const toUsd = (baseUnits: bigint): number => Number(baseUnits) / BASE_UNITS_PER_USD;

/**
 * The plan's USD amounts back in base units, adding up to exactly what the plan covers: each
 * is rounded down, and the few units lost to rounding go to the leg with the most headroom.
 */
export function legAmounts(params: { plan: Plan; options: readonly SourcingOption[]; covered: bigint }): Map<string, bigint> {
  const byId = new Map(params.options.map((option) => [optionId(option), option]));
  const amounts = new Map<string, bigint>();
  for (const allocation of params.plan.allocations) {
    const option = byId.get(allocation.id);
    if (!option) throw new RelayerError(`plan allocates to unknown option ${allocation.id}`);
    const units = BigInt(Math.floor(allocation.amount * BASE_UNITS_PER_USD));
    amounts.set(allocation.id, units > option.capacity ? option.capacity : units);
  }
  let missing = params.covered - [...amounts.values()].reduce((a, b) => a + b, 0n);
  const byHeadroom = [...amounts.keys()].sort((a, b) => {
    const room = (id: string) => (byId.get(id)?.capacity ?? 0n) - (amounts.get(id) ?? 0n);
    return room(b) > room(a) ? 1 : room(b) < room(a) ? -1 : 0;
  });
  for (const id of byHeadroom) {
    if (missing <= 0n) break;
    const room = (byId.get(id)?.capacity ?? 0n) - (amounts.get(id) ?? 0n);
    const add = missing < room ? missing : room;
    amounts.set(id, (amounts.get(id) ?? 0n) + add);
    missing -= add;
  }
  return amounts;
}

export interface SettlementPlan {
  /** What the ledger records: the settlement and its legs, all `planned`. */
  readonly record: RecordSettlementParameters;
  readonly plan: Plan;
}

export interface PlanSettlementReturnType extends RecordSettlementReturnType {
  readonly plan: Plan;
}

/** Plans how to cover a shortfall (pure): the cheapest sourcing, as legs in base units. */
export function settlementPlan(params: {
  shortfallId: Hash;
  report: ShortfallReport;
  options: readonly SourcingOption[];
  riskPerSecond: number;
  /** When the legs' destinations stop accepting them. */
  deadline: Date;
}): SettlementPlan {
  const { report, options } = params;
  const required = BigInt(report.requiredAmount);
  const result = plan({
    required: toUsd(required),
    riskPerSecond: params.riskPerSecond,
    options: options.map((option) => ({
      id: optionId(option),
      capacity: toUsd(option.capacity),
      fixedCost: option.fixedCostUsd,
      latency: option.latencySeconds,
      cost: option.cost,
    })),
  });
  const capacity = options.reduce((sum, option) => sum + option.capacity, 0n);
  const covered = required < capacity ? required : capacity;
  const amounts = legAmounts({ plan: result, options, covered });
  const legs: PlannedLeg[] = options
    .filter((option) => (amounts.get(optionId(option)) ?? 0n) > 0n)
    .map((option) => ({
      kind: option.kind,
      sourceChainId: option.sourceChainId,
      destinationChainId: report.chainId,
      transport: option.transport,
      account: report.account as PlannedLeg['account'],
      amount: amounts.get(optionId(option)) ?? 0n,
      deadline: params.deadline,
      ...(option.marketId ? { marketId: option.marketId } : {}),
      ...(option.positionSize === undefined ? {} : { positionSize: option.positionSize }),
    }));
  return {
    plan: result,
    record: {
      shortfallId: params.shortfallId,
      revision: 0,
      requiredAmount: required,
      coveredAmount: covered,
      plannedCostUsd: result.totalCost.toFixed(6),
      plan: { ...result },
      legs,
    },
  };
}

/**
 * Plans a shortfall and records the settlement with its legs. Recording is idempotent: the
 * same shortfall planned again (a retried job) returns the legs recorded the first time, so
 * one episode is one settlement.
 */
export async function planSettlement(params: Parameters<typeof settlementPlan>[0] & { ledger: LedgerExecutor }): Promise<PlanSettlementReturnType> {
  const { record, plan: result } = settlementPlan(params);
  return { ...(await recordSettlement(params.ledger, record)), plan: result };
}
