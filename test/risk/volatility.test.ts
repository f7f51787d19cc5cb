import { describe, expect, it } from 'vitest';
import { RelayerError } from '../../relayer/errors.js';
import { initialMarketState, updateVariance, varianceFromAnnualVolatility } from '../../relayer/risk/volatility.js';
import { market, price8, round, T0 } from './fixtures.js';

describe('EWMA volatility, s2 = lam s2 + (1 - lam) r^2 / dt', () => {
  it('updates by hand: 100 -> 110 in 10 s from 1e-6', () => {
    // r = ln 1.1 = 0.0953101798; r^2 / dt = 9.08403037e-4; 0.94e-6 + 0.06 * 9.08403037e-4 = 5.54441822e-5.
    const next = updateVariance({ variance: 1e-6, previous: round('ETH', price8(100), T0), next: round('ETH', price8(110), T0 + 10, 2n), lambda: 0.94, floor: 1e-12 });
    expect(next).toBeCloseTo(5.54441822e-5, 12);
  });

  it('decays on a quiet round and stops at the floor', () => {
    const quiet = { previous: round('ETH', price8(100), T0), next: round('ETH', price8(100), T0 + 60, 2n), lambda: 0.94 };
    expect(updateVariance({ ...quiet, variance: 1e-6, floor: 1e-12 })).toBeCloseTo(0.94e-6, 18);
    expect(updateVariance({ ...quiet, variance: 1e-6, floor: 9.5e-7 })).toBe(9.5e-7);
  });

  it('counts two rounds in the same second as one second apart', () => {
    const sameSecond = updateVariance({ variance: 0, previous: round('ETH', price8(100), T0), next: round('ETH', price8(110), T0, 2n), lambda: 0.94, floor: 0 });
    const oneSecond = updateVariance({ variance: 0, previous: round('ETH', price8(100), T0), next: round('ETH', price8(110), T0 + 1, 2n), lambda: 0.94, floor: 0 });
    expect(sameSecond).toBe(oneSecond);
    expect(sameSecond).toBeGreaterThan(0);
  });

  it('rejects a non-positive price', () => {
    expect(() => updateVariance({ variance: 0, previous: round('ETH', price8(100), T0), next: round('ETH', -1n, T0 + 1, 2n), lambda: 0.94, floor: 0 })).toThrow(RelayerError);
  });

  it('converts an annual volatility and starts from the prior, never under the floor', () => {
    expect(varianceFromAnnualVolatility(0.6)).toBeCloseTo(0.36 / 31_536_000, 20);
    expect(initialMarketState(market('ETH', { varianceFloor: 1e-9, initialVariance: 1e-8 }))).toEqual({ round: undefined, variance: 1e-8 });
    expect(initialMarketState(market('ETH', { varianceFloor: 1e-9, initialVariance: 1e-10 }))).toEqual({ round: undefined, variance: 1e-9 });
    expect(initialMarketState(market('ETH', { varianceFloor: 1e-9 }))).toEqual({ round: undefined, variance: 1e-9 });
  });
});
