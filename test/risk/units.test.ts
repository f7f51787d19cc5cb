import { describe, expect, it } from 'vitest';
import { RelayerError } from '../../relayer/errors.js';
import { ceilDiv, floorDiv, fractionToWad, fractionToWadUp } from '../../relayer/risk/units.js';

describe('bigint rounding', () => {
  it.each([
    [7n, 2n, 3n, 4n],
    [-7n, 2n, -4n, -3n],
    [6n, 3n, 2n, 2n],
    [-6n, 3n, -2n, -2n],
    [0n, 5n, 0n, 0n],
    [-1n, 10n ** 20n, -1n, 0n],
    [1n, 10n ** 20n, 0n, 1n],
  ])('%s / %s: floor %s, ceil %s', (a, b, floor, ceil) => {
    expect(floorDiv(a, b)).toBe(floor);
    expect(ceilDiv(a, b)).toBe(ceil);
  });
});

describe('statistics to WAD', () => {
  it('rounds a statistic up and a configured fraction to the nearest 1e-18', () => {
    expect(fractionToWadUp(0.09375, 'x')).toBe(93_750_000_000_000_000n);
    // 1e-18 / 3 is not a whole WAD unit: up means 1, nearest means 0.
    expect(fractionToWadUp(1e-18 / 3, 'x')).toBe(1n);
    expect(fractionToWad(1e-18 / 3, 'x')).toBe(0n);
    expect(fractionToWad(0.05, 'x')).toBe(50_000_000_000_000_000n);
    expect(fractionToWad(0.1, 'x')).toBe(100_000_000_000_000_000n);
  });

  it('names what was wrong', () => {
    expect(() => fractionToWadUp(Number.NaN, 'z * sigma')).toThrow(RelayerError);
    expect(() => fractionToWadUp(-0.1, 'z * sigma')).toThrow(/z \* sigma must be a finite non-negative fraction, got -0.1/);
    expect(() => fractionToWadUp(Number.POSITIVE_INFINITY, 'kappa')).toThrow(/kappa/);
  });
});
