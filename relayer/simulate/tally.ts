/**
 * The running totals of one strategy's run, from which metrics.ts reports. Every money figure
 * is USD as a number; `events` is filled only when the run records (tests).
 */
import type { LiquidationEvent, RunEvents, TransferEvent, PlanRecord } from './events.js';

export class Tally {
  /** Realized write-offs: negative collateral of accounts closed out. */
  badDebt = 0;
  /** Negative equity of accounts still open at the end, at the final oracle. */
  openBadDebt = 0;
  slippage = 0;
  /** The part of `slippage` the backstop paid unwinding its inventory. */
  unwinding = 0;
  penalties = 0;
  gas = 0;
  messageFees = 0;
  notionalLiquidated = 0;
  notionalAbsorbed = 0;
  liquidations = 0;
  collateralMoved = 0;
  liquidityMoved = 0;
  /** Peak over steps of the required amounts the planner found no source for. */
  plannerUncovered = 0;
  private stepUncovered = 0;
  peakImpact = 0;
  /** Per slot, the integral over time of the pool's deviation from the fundamental, fraction * seconds. */
  readonly impactSeconds: Float64Array;
  uncoveredPeak = 0;
  underwaterSeconds = 0;
  vaultPeak: number;
  vaultDrawdown = 0;
  vaultValue: number;
  readonly accountsLiquidated: Uint8Array;
  readonly accountsToppedUp: Uint8Array;
  /** Cumulative realized bad debt after each step (index 0: the start). */
  readonly badDebtSeries: Float64Array;
  /** Pool price per slot after each step's actions: `poolPrices[slot][step]`. */
  readonly poolPrices: Float64Array[];
  readonly events: RunEvents | undefined;

  constructor(params: { accounts: number; steps: number; slots: number; vaultValue: number; record: boolean }) {
    this.accountsLiquidated = new Uint8Array(params.accounts);
    this.accountsToppedUp = new Uint8Array(params.accounts);
    this.badDebtSeries = new Float64Array(params.steps + 1);
    this.poolPrices = Array.from({ length: params.slots }, () => new Float64Array(params.steps + 1));
    this.impactSeconds = new Float64Array(params.slots);
    this.vaultPeak = params.vaultValue;
    this.vaultValue = params.vaultValue;
    this.events = params.record ? { liquidations: [], transfers: [], plans: [] } : undefined;
  }

  liquidation(event: LiquidationEvent): void {
    this.liquidations += 1;
    this.accountsLiquidated[event.account] = 1;
    this.slippage += event.slippage;
    this.penalties += event.penalty;
    this.badDebt += event.writeOff;
    if (event.kind !== 'absorb') this.notionalLiquidated += event.notional;
    else this.notionalAbsorbed += event.notional;
    this.events?.liquidations.push(event);
  }

  transfer(event: TransferEvent): void {
    if (event.kind === 'send') {
      this.collateralMoved += event.amount;
      this.accountsToppedUp[event.account] = 1;
    }
    this.events?.transfers.push(event);
  }

  plan(record: PlanRecord): void {
    this.stepUncovered += record.uncovered;
    this.events?.plans.push(record);
  }

  liquiditySent(amount: number): void {
    this.liquidityMoved += amount;
  }

  /** Slippage the backstop pays unwinding its inventory (not a trader's loss, still market cost). */
  unwindSlippage(amount: number): void {
    this.slippage += amount;
    this.unwinding += amount;
  }

  /** Accounts below maintenance at a step's start, before the strategy acts. */
  exposure(params: { underwater: number; shortfall: number; seconds: number }): void {
    this.underwaterSeconds += params.underwater * params.seconds;
    this.uncoveredPeak = Math.max(this.uncoveredPeak, params.shortfall);
  }

  /** The market and the vault after a step's actions; `deviations` by slot, |pool / fundamental - 1|. */
  endStep(params: { step: number; seconds: number; deviations: readonly number[]; vaultValue: number; poolPrices: readonly number[] }): void {
    params.deviations.forEach((deviation, slot) => {
      this.peakImpact = Math.max(this.peakImpact, deviation);
      this.impactSeconds[slot] = (this.impactSeconds[slot] ?? 0) + deviation * params.seconds;
    });
    this.vaultValue = params.vaultValue;
    this.vaultPeak = Math.max(this.vaultPeak, params.vaultValue);
    this.vaultDrawdown = Math.max(this.vaultDrawdown, this.vaultPeak - params.vaultValue);
    this.badDebtSeries[params.step] = this.badDebt;
    this.plannerUncovered = Math.max(this.plannerUncovered, this.stepUncovered);
    this.stepUncovered = 0;
    params.poolPrices.forEach((price, slot) => {
      const series = this.poolPrices[slot];
      if (series) series[params.step] = price;
    });
  }
}
