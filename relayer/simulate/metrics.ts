/** The figures a run reports per strategy (DESIGN.md section 9): USD, percent, counts. */
import type { Tally } from './tally.js';
import type { Vault } from './vault.js';

export interface StrategyMetrics {
  /** Written-off negative collateral, plus negative equity of accounts still open at the end. */
  readonly badDebtUsd: number;
  /** Bad debt over the open interest (total notional) at the start, percent. */
  readonly badDebtPct: number;
  /** Execution against the oracle price of every trade into a pool (pool fees included). */
  readonly slippageUsd: number;
  /** Largest deviation of any pool from its fundamental price after a step's actions, percent. */
  readonly peakImpactPct: number;
  /** Time average of a pool's deviation from its fundamental price, for the most affected pool, percent. */
  readonly timeWeightedImpactPct: number;
  /** Accounts with at least one position closed or absorbed. */
  readonly accountsLiquidated: number;
  /** Closings and absorptions (one per account per action). */
  readonly liquidations: number;
  /** Notional closed into pools, at the oracle. */
  readonly notionalLiquidatedUsd: number;
  /** Notional taken over by the backstop, at the oracle. */
  readonly notionalAbsorbedUsd: number;
  readonly penaltiesUsd: number;
  /** Every transaction: liquidations, absorptions, sends, deliveries, unwinds. */
  readonly gasUsd: number;
  /** Cross-chain message fees. */
  readonly messageFeesUsd: number;
  /** Accounts whose own surplus was moved from another chain. */
  readonly accountsToppedUp: number;
  readonly collateralMovedUsd: number;
  /** Vault liquidity moved between chains for backstop takeovers. */
  readonly liquidityMovedUsd: number;
  /** Largest fall of the vault's value (reserve, in flight, inventory at the oracle) from a peak. */
  readonly vaultDrawdownUsd: number;
  /**
   * The vault's value at the end minus at the start, with the backstop's inventory marked at
   * what selling it into the pools would fetch at the end (inventory-exit.ts), not at the oracle.
   */
  readonly vaultPnlUsd: number;
  /** Bad debt, plus the vault's loss (less its gain), plus gas and message fees: what the protocol is out of pocket. */
  readonly netProtocolLossUsd: number;
  /** Peak total maintenance shortfall (MM - E > 0) on the books at a step's start, before acting. */
  readonly uncoveredShortfallUsd: number;
  /** Account-hours spent below maintenance at a step's start. */
  readonly underwaterAccountHours: number;
  /** Peak over steps of the required amounts (summed over accounts) the planner found no source for. */
  readonly plannerUncoveredUsd: number;
}

export function strategyMetrics(params: { tally: Tally; vault: Vault; vaultExitValue: number; openInterestUsd: number; durationSeconds: number }): StrategyMetrics {
  const { tally, vault, openInterestUsd, durationSeconds } = params;
  const badDebt = tally.badDebt + tally.openBadDebt;
  const vaultPnl = params.vaultExitValue - vault.initialValue;
  return {
    badDebtUsd: badDebt,
    badDebtPct: openInterestUsd > 0 ? (100 * badDebt) / openInterestUsd : 0,
    slippageUsd: tally.slippage,
    peakImpactPct: 100 * tally.peakImpact,
    timeWeightedImpactPct: durationSeconds > 0 ? (100 * Math.max(0, ...tally.impactSeconds)) / durationSeconds : 0,
    accountsLiquidated: count(tally.accountsLiquidated),
    liquidations: tally.liquidations,
    notionalLiquidatedUsd: tally.notionalLiquidated,
    notionalAbsorbedUsd: tally.notionalAbsorbed,
    penaltiesUsd: tally.penalties,
    gasUsd: tally.gas,
    messageFeesUsd: tally.messageFees,
    accountsToppedUp: count(tally.accountsToppedUp),
    collateralMovedUsd: tally.collateralMoved,
    liquidityMovedUsd: tally.liquidityMoved,
    vaultDrawdownUsd: tally.vaultDrawdown,
    vaultPnlUsd: vaultPnl,
    netProtocolLossUsd: badDebt - vaultPnl + tally.gas + tally.messageFees,
    uncoveredShortfallUsd: tally.uncoveredPeak,
    underwaterAccountHours: tally.underwaterSeconds / 3600,
    plannerUncoveredUsd: tally.plannerUncovered,
  };
}

function count(flags: Uint8Array): number {
  let n = 0;
  for (const flag of flags) n += flag;
  return n;
}
