/**
 * Bad input (issue 13): a snapshot that cannot describe a real account is refused, by the
 * validator and by `decide` before it decides anything, with a SnapshotError naming the field.
 */
import { describe, expect, it } from 'vitest';
import { decide, SnapshotError, validateSnapshot, type PolicySnapshot } from '../../relayer/policy/index.js';
import { oneLong, usd } from './generators.js';

/** A valid snapshot touching every list the validator walks. */
const base: PolicySnapshot = oneLong({
  equityUsd: 550,
  inFlight: [{ kind: 'collateral', relief: usd(10), etaSeconds: 30 }],
  sources: [
    {
      kind: 'collateral',
      chainId: 2,
      key: 'beta',
      capacity: usd(100),
      routes: [
        { transport: 'layerzero', fixedCostUsd: 1, latencySeconds: 30 },
        { transport: 'wormhole', fixedCostUsd: 2, latencySeconds: 20 },
      ],
    },
    { kind: 'liquidity', chainId: 3, key: 'gamma', capacity: usd(1_000), routes: [{ transport: 'wormhole', fixedCostUsd: 1, latencySeconds: 30 }] },
  ],
  avoid: [{ chainId: 2, kind: 'collateral', transport: 'layerzero' }],
});

// The snapshot's types are read-only: a test breaks a copy through a loose view of it.
type Loose = Record<string, any>;
function broken(edit: (snapshot: Loose) => void): PolicySnapshot {
  const copy = structuredClone(base) as unknown as Loose;
  edit(copy);
  return copy as unknown as PolicySnapshot;
}

function refusal(snapshot: PolicySnapshot): SnapshotError {
  let caught: unknown;
  try {
    validateSnapshot(snapshot);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SnapshotError);
  // decide refuses it too, before deciding anything.
  expect(() => decide(snapshot)).toThrow(SnapshotError);
  return caught as SnapshotError;
}

const cases: { what: string; field: string; edit: (s: Loose) => void }[] = [
  // Negative amounts.
  { what: 'a negative capacity', field: 'sources[1].capacity', edit: (s) => void (s.sources[1].capacity = -1n) },
  { what: 'a negative relief in flight', field: 'inFlight[0].relief', edit: (s) => void (s.inFlight[0].relief = -5n) },
  { what: 'a negative required amount', field: 'assessment.required', edit: (s) => void (s.assessment.required = -1n) },
  { what: 'a negative maintenance requirement', field: 'assessment.maintenance', edit: (s) => void (s.assessment.maintenance = -1_000_000n) },
  { what: 'a negative notional', field: 'positions[0].notional', edit: (s) => void (s.positions[0].notional = -1n) },
  { what: 'a negative pool reserve', field: 'positions[0].pool.quoteReserve', edit: (s) => void (s.positions[0].pool.quoteReserve = -1n) },
  { what: 'a negative minimum action', field: 'terms.minAction', edit: (s) => void (s.terms.minAction = -1n) },
  { what: 'a negative fixed cost', field: 'sources[0].routes[1].fixedCostUsd', edit: (s) => void (s.sources[0].routes[1].fixedCostUsd = -0.5) },
  // An amount that is not base units.
  { what: 'a capacity as a float', field: 'sources[1].capacity', edit: (s) => void (s.sources[1].capacity = 1000.5) },
  { what: 'an equity as a string', field: 'assessment.equity', edit: (s) => void (s.assessment.equity = '550') },
  // Non-finite numbers.
  { what: 'a NaN price of waiting', field: 'terms.riskPerSecondPerUsd', edit: (s) => void (s.terms.riskPerSecondPerUsd = Number.NaN) },
  { what: 'an infinite latency', field: 'sources[0].routes[1].latencySeconds', edit: (s) => void (s.sources[0].routes[1].latencySeconds = Number.POSITIVE_INFINITY) },
  { what: 'an infinite eta', field: 'inFlight[0].etaSeconds', edit: (s) => void (s.inFlight[0].etaSeconds = Number.POSITIVE_INFINITY) },
  { what: 'a NaN pool fee', field: 'positions[0].pool.fee', edit: (s) => void (s.positions[0].pool.fee = Number.NaN) },
  { what: 'an infinite home gas', field: 'terms.homeGasUsd', edit: (s) => void (s.terms.homeGasUsd = Number.POSITIVE_INFINITY) },
  // Unknown kinds and transports.
  { what: 'an unknown source kind', field: 'sources[1].kind', edit: (s) => void (s.sources[1].kind = 'bridge') },
  { what: 'an unknown transport', field: 'sources[0].routes[1].transport', edit: (s) => void (s.sources[0].routes[1].transport = 'ccip') },
  // Fractions at or above 1.
  { what: 'a penalty of 1', field: 'positions[0].penalty', edit: (s) => void (s.positions[0].penalty = 1) },
  { what: 'an initial fraction above 1', field: 'positions[0].initialFraction', edit: (s) => void (s.positions[0].initialFraction = 1.5) },
  { what: 'a maintenance fraction of 1', field: 'positions[0].maintenanceFraction', edit: (s) => void (s.positions[0].maintenanceFraction = 1) },
  { what: 'a negative target fraction', field: 'positions[0].targetFraction', edit: (s) => void (s.positions[0].targetFraction = -0.1) },
  { what: 'a negative liquidation buffer', field: 'positions[0].liquidationBufferFraction', edit: (s) => void (s.positions[0].liquidationBufferFraction = -0.01) },
  { what: 'a liquidation buffer past initial margin', field: 'positions[0].liquidationBufferFraction', edit: (s) => void (s.positions[0].liquidationBufferFraction = s.positions[0].initialFraction) },
  { what: 'a pool fee of 1', field: 'positions[0].pool.fee', edit: (s) => void (s.positions[0].pool.fee = 1) },
  { what: 'a negative fraction', field: 'positions[0].penalty', edit: (s) => void (s.positions[0].penalty = -0.01) },
  // Issue 14: the pool, the volatility and the backstop's book; the pacing terms.
  { what: 'an oracle price of 0', field: 'positions[0].oraclePrice', edit: (s) => void (s.positions[0].oraclePrice = 0) },
  { what: 'a NaN sigma', field: 'positions[0].sigma', edit: (s) => void (s.positions[0].sigma = Number.NaN) },
  { what: 'a negative sigma', field: 'positions[0].sigma', edit: (s) => void (s.positions[0].sigma = -1e-4) },
  { what: 'a backstop book as a float', field: 'positions[0].backstopNotional', edit: (s) => void (s.positions[0].backstopNotional = 12.5) },
  { what: 'a negative base reserve', field: 'positions[0].pool.baseReserve', edit: (s) => void (s.positions[0].pool.baseReserve = -1) },
  { what: 'a pool with quote and no base', field: 'positions[0].pool.baseReserve', edit: (s) => void (s.positions[0].pool.baseReserve = 0) },
  { what: 'a missing base reserve', field: 'positions[0].pool.baseReserve', edit: (s) => void delete s.positions[0].pool.baseReserve },
  { what: 'a negative z', field: 'terms.z', edit: (s) => void (s.terms.z = -3) },
  { what: 'a home-close budget of 0', field: 'terms.localImpactBudget', edit: (s) => void (s.terms.localImpactBudget = 0) },
  { what: 'an unwind budget of 1', field: 'terms.unwindImpactBudget', edit: (s) => void (s.terms.unwindImpactBudget = 1) },
  { what: 'a block of 0 seconds', field: 'terms.blockSeconds', edit: (s) => void (s.terms.blockSeconds = 0) },
  { what: 'an infinite half-life', field: 'terms.arbitrageHalfLifeSeconds', edit: (s) => void (s.terms.arbitrageHalfLifeSeconds = Number.POSITIVE_INFINITY) },
];

describe('a bad snapshot', () => {
  it('the valid base snapshot is accepted', () => {
    expect(() => validateSnapshot(base)).not.toThrow();
    expect(decide(base).kind).toBe('plan');
  });

  it.each(cases)('with $what is refused naming $field', ({ field, edit }) => {
    const error = refusal(broken(edit));
    expect(error.name).toBe('SnapshotError');
    expect(error.message).toContain(`policy snapshot: ${field}:`);
  });

  it('names the first wrong field when several are wrong, and says what it must be', () => {
    const error = refusal(
      broken((s) => {
        s.sources[1].kind = 'bridge';
        s.sources[1].capacity = -1n;
      }),
    );
    expect(error.message).toBe('policy snapshot: sources[1].kind: must be one of collateral, liquidity, not "bridge"');
    expect(refusal(broken((s) => void (s.sources[0].routes[0].transport = 'ccip'))).message).toContain('must be one of layerzero, wormhole');
    expect(refusal(broken((s) => void (s.positions[0].penalty = 1))).message).toContain('must be a fraction below 1');
  });

  // Found as a gap, now closed: the routes to avoid are not validated. An adapter that spells a transport
  // or kind wrongly (`LayerZero`, `vault`) gets no error, and the route that failed is silently
  // used again; every other enum in the snapshot is refused with its field named.
  it.each([
    { what: 'an unknown transport', field: 'avoid[0].transport', edit: (s: Loose) => void (s.avoid[0].transport = 'LayerZero') },
    { what: 'an unknown kind', field: 'avoid[0].kind', edit: (s: Loose) => void (s.avoid[0].kind = 'vault') },
  ])('with $what in a route to avoid is refused naming $field', ({ field, edit }) => {
    expect(() => validateSnapshot(broken(edit))).toThrow(new RegExp(`policy snapshot: ${field.replace(/[[\].]/g, '\\$&')}:`));
  });
});
