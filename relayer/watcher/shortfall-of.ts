import type { Address } from 'viem';
import type { RecordShortfallParameters, ShortfallReason } from '../../db/index.js';
import { RelayerError } from '../errors.js';
import type { ShortfallReport } from '../orchestrator/shortfall-report.js';
import { rateFraction, WAD, type AccountHealth, type RiskReason } from '../risk/index.js';

/** The ledger's reason for the first (most serious) of the risk engine's reasons. */
function reasonOf(reasons: readonly RiskReason[]): ShortfallReason {
  switch (reasons[0]?.kind) {
    case 'missing-price':
    case 'stale-price':
      return 'stale-price';
    case 'forecast':
      return 'forecast';
    default:
      return 'breach';
  }
}

/** JSON can hold neither bigint nor a class: the reasons as plain values, for the ledger's detail. */
const plainReasons = (reasons: readonly RiskReason[]): Record<string, unknown>[] => reasons.map((reason) => ({ ...reason }));

export interface ShortfallOfParameters {
  readonly chainId: number;
  readonly engine: Address;
  readonly account: Address;
  readonly episode: bigint;
  readonly health: AccountHealth;
  /** The account's collateral: its equity when a missing price leaves it unvalued. */
  readonly collateral: bigint;
  readonly block: bigint;
  readonly detectedAt: Date;
  /** Insurance cover the account had received so far (to tell this episode's bad debt later). */
  readonly coveredBefore: bigint;
}

/**
 * An at-risk account as a shortfall report (for the queue) and as the ledger's row. The
 * requirement reported is the static maintenance margin the engine enforces; `mEff` is the
 * largest effective fraction among the account's markets, `targetFractions` the m_eff (1 + target)
 * of each (what the required amount restores, market by market), `sigmas` the EWMA sigma each was
 * priced at (what the decision core prices a takeover's holding risk with). An account a missing price leaves
 * unvalued is reported with its collateral as equity and nothing required: it needs a price,
 * not money, and the reason says so.
 */
export function shortfallOf(params: ShortfallOfParameters): { report: ShortfallReport; record: RecordShortfallParameters } {
  const { health } = params;
  if (!health.atRisk) throw new RelayerError(`account ${params.account} is not at risk: nothing to report`);
  const valuation = health.valuation;
  const reason = reasonOf(health.reasons);
  const equity = valuation?.equity ?? params.collateral;
  const maintenance = valuation?.maintenance ?? 0n;
  const requiredAmount = valuation?.requiredAmount ?? 0n;
  const mEff = (valuation?.effectiveFractions ?? []).reduce((max, { fraction }) => (fraction > max ? fraction : max), 0n);
  // A WAD fraction is a rate over WAD: the one conversion, rounded once.
  const mEffNumber = rateFraction(mEff * WAD);
  const targetFractions = Object.fromEntries((valuation?.effectiveFractions ?? []).map(({ market, targetRate }) => [market.toLowerCase(), rateFraction(targetRate)]));
  const sigmas = Object.fromEntries((valuation?.effectiveFractions ?? []).map(({ market, sigma }) => [market.toLowerCase(), sigma]));
  const report: ShortfallReport = {
    chainId: params.chainId,
    engine: params.engine,
    account: params.account,
    episode: params.episode.toString(),
    reason,
    equity: equity.toString(),
    maintenance: maintenance.toString(),
    requiredAmount: requiredAmount.toString(),
    mEff: mEffNumber,
    targetFractions,
    sigmas,
    detectedBlock: params.block.toString(),
    detectedAt: params.detectedAt.toISOString(),
  };
  const record: RecordShortfallParameters = {
    chainId: params.chainId,
    engine: params.engine,
    account: params.account,
    episode: params.episode,
    reason,
    equity,
    maintenance,
    requiredAmount,
    detectedBlock: params.block,
    detectedAt: params.detectedAt,
    detail: {
      mEff: mEffNumber,
      targetFractions,
      sigmas,
      reasons: plainReasons(health.reasons),
      ...(valuation === undefined
        ? { unvalued: true }
        : {
            effectiveMaintenance: valuation.effectiveMaintenance.toString(),
            warnLevel: valuation.warnLevel.toString(),
            targetLevel: valuation.targetLevel.toString(),
            shortfall: valuation.shortfall.toString(),
            ...(valuation.breachProbability === undefined ? {} : { breachProbability: valuation.breachProbability }),
          }),
      badDebtCoveredBefore: params.coveredBefore.toString(),
    },
  };
  return { report, record };
}
