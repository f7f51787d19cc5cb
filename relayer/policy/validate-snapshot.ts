/**
 * A snapshot is data from outside the core (chain reads, the ledger, a simulated world): one
 * that cannot describe a real account is refused with the field that is wrong, before any
 * decision is taken from it.
 */
import { TRANSPORTS } from '../../db/index.js';
import { RelayerError } from '../errors.js';
import type { PolicySnapshot } from './snapshot.js';

export class SnapshotError extends RelayerError {
  override name = 'SnapshotError';
}

const SOURCE_KINDS = ['collateral', 'liquidity'] as const;

export function validateSnapshot(snapshot: PolicySnapshot): void {
  const { assessment, terms } = snapshot;
  nonNegativeUnits('assessment.maintenance', assessment.maintenance);
  nonNegativeUnits('assessment.initial', assessment.initial);
  nonNegativeUnits('assessment.required', assessment.required);
  units('assessment.equity', assessment.equity);
  nonNegativeNumber('terms.riskPerSecondPerUsd', terms.riskPerSecondPerUsd);
  nonNegativeUnits('terms.minAction', terms.minAction);
  nonNegativeNumber('terms.liquidityRate', terms.liquidityRate);
  nonNegativeNumber('terms.homeGasUsd', terms.homeGasUsd);
  nonNegativeNumber('terms.homeLatencySeconds', terms.homeLatencySeconds);
  nonNegativeNumber('terms.z', terms.z);
  openFraction('terms.localImpactBudget', terms.localImpactBudget);
  openFraction('terms.unwindImpactBudget', terms.unwindImpactBudget);
  positiveNumber('terms.blockSeconds', terms.blockSeconds);
  nonNegativeNumber('terms.arbitrageHalfLifeSeconds', terms.arbitrageHalfLifeSeconds);
  if (terms.auctionTakerMargin !== undefined) fraction('terms.auctionTakerMargin', terms.auctionTakerMargin);
  snapshot.positions.forEach((position, i) => {
    const at = `positions[${i}]`;
    nonNegativeUnits(`${at}.notional`, position.notional);
    nonNegativeUnits(`${at}.pool.quoteReserve`, position.pool.quoteReserve);
    for (const field of ['maintenanceFraction', 'initialFraction', 'penalty'] as const) fraction(`${at}.${field}`, position[field]);
    nonNegativeNumber(`${at}.liquidationBufferFraction`, position.liquidationBufferFraction);
    // The engine refuses a buffer past initial margin (InvalidLiquidationBuffer); WAD rounding aside.
    if (position.maintenanceFraction + position.liquidationBufferFraction > position.initialFraction + 1e-12) {
      fail(`${at}.liquidationBufferFraction`, `must be at most initialFraction - maintenanceFraction (${position.initialFraction - position.maintenanceFraction}), not ${position.liquidationBufferFraction}`);
    }
    // m_eff (1 + target) passes 1 in a fast crash: a requirement above the notional is still a requirement.
    nonNegativeNumber(`${at}.targetFraction`, position.targetFraction);
    fraction(`${at}.pool.fee`, position.pool.fee);
    positiveNumber(`${at}.oraclePrice`, position.oraclePrice);
    nonNegativeNumber(`${at}.sigma`, position.sigma);
    units(`${at}.backstopNotional`, position.backstopNotional);
    nonNegativeNumber(`${at}.pool.baseReserve`, position.pool.baseReserve);
    // A constant-product pool holds both sides or neither: one without the other has no price.
    if (position.blockNotionalLeft !== undefined) nonNegativeUnits(`${at}.blockNotionalLeft`, position.blockNotionalLeft);
    if (position.auction !== undefined) auctionParams(`${at}.auction`, position.auction);
    if ((position.pool.baseReserve > 0) !== (position.pool.quoteReserve > 0n)) fail(`${at}.pool.baseReserve`, `must be > 0 exactly when the quote reserve is (${position.pool.quoteReserve}), not ${position.pool.baseReserve}`);
  });
  snapshot.inFlight.forEach((leg, i) => {
    nonNegativeUnits(`inFlight[${i}].relief`, leg.relief);
    nonNegativeNumber(`inFlight[${i}].etaSeconds`, leg.etaSeconds);
  });
  snapshot.avoid.forEach((route, i) => {
    if (!(SOURCE_KINDS as readonly string[]).includes(route.kind)) fail(`avoid[${i}].kind`, `must be one of ${SOURCE_KINDS.join(', ')}, not ${JSON.stringify(route.kind)}`);
    if (!(TRANSPORTS as readonly string[]).includes(route.transport)) fail(`avoid[${i}].transport`, `must be one of ${TRANSPORTS.join(', ')}, not ${JSON.stringify(route.transport)}`);
  });
  snapshot.sources.forEach((source, i) => {
    const at = `sources[${i}]`;
    if (!(SOURCE_KINDS as readonly string[]).includes(source.kind)) fail(`${at}.kind`, `must be one of ${SOURCE_KINDS.join(', ')}, not ${JSON.stringify(source.kind)}`);
    nonNegativeUnits(`${at}.capacity`, source.capacity);
    source.routes.forEach((route, j) => {
      if (!(TRANSPORTS as readonly string[]).includes(route.transport)) fail(`${at}.routes[${j}].transport`, `must be one of ${TRANSPORTS.join(', ')}`);
      nonNegativeNumber(`${at}.routes[${j}].fixedCostUsd`, route.fixedCostUsd);
      nonNegativeNumber(`${at}.routes[${j}].latencySeconds`, route.latencySeconds);
    });
  });
}

/** MarginEngine.setAuctionConfig's rules: a lot starts at or above the oracle and decays to a reset. */
function auctionParams(at: string, auction: NonNullable<PolicySnapshot['positions'][number]['auction']>): void {
  positiveNumber(`${at}.buf`, auction.buf);
  if (auction.buf < 1) fail(`${at}.buf`, `must be at least 1, not ${auction.buf}`);
  openFraction(`${at}.cut`, auction.cut);
  positiveNumber(`${at}.cusp`, auction.cusp);
  if (auction.cusp > 1) fail(`${at}.cusp`, `must be in (0, 1], not ${auction.cusp}`);
  positiveNumber(`${at}.stepSeconds`, auction.stepSeconds);
  positiveNumber(`${at}.tailSeconds`, auction.tailSeconds);
}

function fail(field: string, problem: string): never {
  throw new SnapshotError(`policy snapshot: ${field}: ${problem}`);
}

function units(field: string, value: bigint): void {
  if (typeof value !== 'bigint') fail(field, `must be an amount in base units (bigint), not ${typeof value}`);
}

export function nonNegativeUnits(field: string, value: bigint): void {
  units(field, value);
  if (value < 0n) fail(field, `must not be negative (${value})`);
}

function nonNegativeNumber(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(field, `must be a finite non-negative number, not ${String(value)}`);
}

export function positiveNumber(field: string, value: number): void {
  nonNegativeNumber(field, value);
  if (value === 0) fail(field, 'must be greater than 0');
}

/** A budget: strictly between 0 (nothing could ever be done) and 1. */
function openFraction(field: string, value: number): void {
  positiveNumber(field, value);
  if (value >= 1) fail(field, `must be a fraction below 1, not ${value}`);
}

export function fraction(field: string, value: number): void {
  nonNegativeNumber(field, value);
  if (value >= 1) fail(field, `must be a fraction below 1, not ${value}`);
}
