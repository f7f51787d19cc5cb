import { describe, expect, it } from 'vitest';
import { RelayerError } from '../../relayer/errors.js';
import { marketCatalog } from '../../relayer/risk/market-catalog.js';
import { riskConfig } from '../../relayer/risk/risk-config.js';
import { market, percent } from './fixtures.js';

describe('risk settings', () => {
  it('fills the defaults of section 5 and converts fractions to WAD', () => {
    expect(riskConfig({ actionSeconds: 30, warn: 0.1, target: 0.25 })).toEqual({
      z: 3,
      lambda: 0.94,
      actionSeconds: 30,
      warn: percent(10n),
      target: percent(25n),
      forecast: undefined,
    });
  });

  it.each([
    [{ actionSeconds: 30, warn: 0.2, target: 0.2 }, 'risk.target (0.2) must be greater than risk.warn (0.2)'],
    [{ actionSeconds: 30, warn: 0.1, target: 0.2, lambda: 1 }, 'risk.lambda must be in (0, 1), got 1'],
    [{ actionSeconds: -1, warn: 0.1, target: 0.2 }, 'risk.actionSeconds must be a non-negative number of seconds, got -1'],
    [{ actionSeconds: 30, warn: 0.1, target: 0.2, z: 0 }, 'risk.z must be a positive number, got 0'],
    [{ actionSeconds: 30, warn: -0.1, target: 0.2 }, 'risk.warn must be a finite non-negative fraction, got -0.1'],
  ])('rejects %j', (input, message) => {
    expect(() => riskConfig(input)).toThrow(new RelayerError(message));
  });
});

describe('market catalog', () => {
  it('puts feeds of any decimals over one denominator', () => {
    const catalog = marketCatalog([market('A'), market('B', { priceDecimals: 18 })]);
    expect(catalog.denominator).toBe(10n ** 30n);
    expect(catalog.priceUnits).toEqual([10n ** 10n, 1n]);
    // With 8-decimal feeds only, Q is the MarginEngine's VALUE_SCALE.
    expect(marketCatalog([market('A')]).denominator).toBe(10n ** 20n);
  });

  it.each([
    [[market('A'), market('A')], 'market A is listed twice'],
    [[market('A', { maintenanceFraction: 0n })], 'market A: maintenanceFraction must be in (0, 1e18), got 0'],
    [[market('A', { priceDecimals: 8.5 })], 'market A: priceDecimals must be an integer from 0 to 36, got 8.5'],
    [[market('A', { heartbeatSeconds: 0 })], 'market A: heartbeatSeconds must be positive, got 0'],
    [[market('A', { varianceFloor: 0 })], 'market A: varianceFloor must be a positive per-second variance, got 0'],
  ])('rejects a bad market (%#)', (markets, message) => {
    expect(() => marketCatalog(markets)).toThrow(new RelayerError(message));
  });
});
