import { RelayerError } from '../errors.js';
import { accountVerdict } from './account-verdict.js';
import { compileAccount, type CompiledAccount } from './compiled-account.js';
import { equity, equityNumerator } from './equity.js';
import { breachProbability } from './breach-probability.js';
import { effectiveMaintenanceRequirement, maintenanceRequirement, requirementNumerator, type RateOf } from './maintenance.js';
import { snapshotAt, type MarketTable } from './market-table.js';
import { requiredAmount } from './required-amount.js';
import type { AccountId, AccountState, MarketId } from './types.js';
import { ceilDiv, RATE_SCALE } from './units.js';

/** Why an account is at risk; data problems first, as they make the numbers themselves doubtful. */
export type RiskReason =
  | { readonly kind: 'missing-price'; readonly market: MarketId }
  | { readonly kind: 'stale-price'; readonly market: MarketId; readonly ageSeconds: number; readonly heartbeatSeconds: number }
  | { readonly kind: 'below-warn' }
  | { readonly kind: 'forecast'; readonly probability: number; readonly level: number };

/**
 * Everything a shortfall report needs about one account. `atRisk` is exactly the verdict the
 * index and the full scan reach; the amounts are exact values rounded where they leave the
 * module: equity down, requirements and the required amount up.
 */
export interface AccountHealth {
  readonly account: AccountId;
  readonly atRisk: boolean;
  /** Empty iff not at risk. */
  readonly reasons: readonly RiskReason[];
  /** Undefined when a price is missing: nothing about the account can then be valued. */
  readonly valuation: Valuation | undefined;
}

export interface Valuation {
  /** E, rounded down (equals the MarginEngine's equity). */
  readonly equity: bigint;
  /** MM with static m, rounded up (equals the MarginEngine's maintenance margin). */
  readonly maintenance: bigint;
  /** MM_eff, rounded up. */
  readonly effectiveMaintenance: bigint;
  /** MM_eff * (1 + warn), rounded up: reported below it. */
  readonly warnLevel: bigint;
  /** MM_eff * (1 + target), rounded up. */
  readonly targetLevel: bigint;
  /** MM - E rounded up; positive means liquidatable on chain now. */
  readonly shortfall: bigint;
  /** Collateral that restores E >= MM_eff * (1 + target): ceil of the exact gap, 0 if none. */
  readonly requiredAmount: bigint;
  /** The forecast's P(E < MM within the horizon); undefined when the mode is off. */
  readonly breachProbability: number | undefined;
  /**
   * Per market of the account's positions: m_eff (WAD), m_eff (1 + target) (RATE_SCALE), what the
   * required amount restores, and the EWMA sigma (per square root of a second) m_eff was priced at.
   */
  readonly effectiveFractions: readonly { readonly market: MarketId; readonly fraction: bigint; readonly targetRate: bigint; readonly sigma: number }[];
}

export function evaluateAccount(account: CompiledAccount, table: MarketTable): AccountHealth {
  const verdict = accountVerdict(account, table);
  const reasons: RiskReason[] = [];
  for (const leg of account.legs) {
    const market = snapshotAt(table, leg.market);
    if (market.freshness === 'missing') reasons.push({ kind: 'missing-price', market: market.market.id });
    if (market.freshness === 'stale') {
      reasons.push({ kind: 'stale-price', market: market.market.id, ageSeconds: market.ageSeconds ?? 0, heartbeatSeconds: market.market.heartbeatSeconds });
    }
  }
  const valuation = value(account, table);
  if (verdict.warnHealth !== undefined && verdict.warnHealth < 0n) reasons.push({ kind: 'below-warn' });
  const forecast = table.config.forecast;
  if (forecast !== undefined && verdict.forecastHealth !== undefined && verdict.forecastHealth < 0n) {
    reasons.push({ kind: 'forecast', probability: valuation?.breachProbability ?? 1, level: forecast.level });
  }
  return { account: account.id, atRisk: verdict.atRisk, reasons, valuation };
}

/** `evaluateAccount` for an account as the watcher holds it. */
export function assessAccount(state: AccountState, table: MarketTable): AccountHealth {
  return evaluateAccount(compileAccount(state, table.catalog), table);
}

function value(account: CompiledAccount, table: MarketTable): Valuation | undefined {
  const e = equityNumerator(account, table);
  if (e === undefined) return undefined;
  // Every price is known from here on, so each requirement below is defined.
  const requirement = (rateOf: RateOf): bigint => priced(requirementNumerator({ account, table, rateOf }));
  const denominator = table.catalog.denominator * RATE_SCALE;
  const mm = requirement((market) => market.maintenanceRate);
  return {
    equity: priced(equity(account, table)),
    maintenance: priced(maintenanceRequirement(account, table)),
    effectiveMaintenance: priced(effectiveMaintenanceRequirement(account, table)),
    warnLevel: ceilDiv(requirement((market) => market.warnRate), denominator),
    targetLevel: ceilDiv(requirement((market) => market.targetRate), denominator),
    shortfall: ceilDiv(mm - e * RATE_SCALE, denominator),
    requiredAmount: priced(requiredAmount(account, table)),
    breachProbability: table.config.forecast === undefined ? undefined : breachProbability(account, table),
    effectiveFractions: account.legs.map((leg) => {
      const market = snapshotAt(table, leg.market);
      return { market: market.market.id, fraction: market.effectiveFraction, targetRate: market.targetRate, sigma: market.sigma };
    }),
  };
}

function priced<T>(value: T | undefined): T {
  if (value === undefined) throw new RelayerError('a requirement was unpriced although equity was priced');
  return value;
}
