import { describe, expect, it } from 'vitest';
import { RelayerError } from '../../relayer/errors.js';
import { assessAccount } from '../../relayer/risk/account-health.js';
import { forecastMultiplier } from '../../relayer/risk/forecast.js';
import { normalCdf, normalQuantile } from '../../relayer/risk/normal.js';
import { SeededRandom } from '../../relayer/seeded-random.js';
import { account, config, market, price8, priced, T0, table, units, usd } from './fixtures.js';
import { randomAccount, randomMarkets, randomPrice } from './generators.js';

describe('the normal distribution', () => {
  it('matches tabulated values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1)).toBeCloseTo(0.8413447461, 6);
    expect(normalCdf(-1.959963985)).toBeCloseTo(0.025, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 5);
    expect(forecastMultiplier(0.05)).toBeCloseTo(1.959963985, 5);
  });

  it('inverts its own cdf', () => {
    for (const p of [1e-6, 0.01, 0.3, 0.5, 0.9]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 9);
  });
});

describe('the breach forecast', () => {
  // 2 units long at 100 (m 5%), sigma = 2^-10 over a 64 s horizon: sigma sqrt(T) = 2^-7.
  // Dispersion S = 200 * 0.95 * 2^-7 = 1.484375 USD; MM = 10 USD; E = 11.484375 makes H = S,
  // so P(E < MM within T) = 2 Phi(-1) = 0.3173105. m_eff stays 5% (3 * 2^-7 < 5%): warn 11 USD.
  const holding = account('0xa', usd(11.484375), [{ market: 'ETH', size: units(2), entryPrice: price8(100) }]);
  const at = (forecastLevel: number) =>
    table({
      markets: [market('ETH')],
      states: [priced(price8(100), { market: 'ETH', variance: 2 ** -20 })],
      config: config({ actionSeconds: 64, forecastLevel }),
      now: T0,
    });

  it('reports the account when the probability exceeds the level, and says how likely', () => {
    const health = assessAccount(holding, at(0.3));
    expect(health.atRisk).toBe(true);
    expect(health.reasons).toHaveLength(1);
    expect(health.reasons[0]).toMatchObject({ kind: 'forecast', level: 0.3 });
    expect(health.valuation?.breachProbability).toBeCloseTo(0.3173105, 6);
    // Above its warn level: only the forecast speaks.
    expect(health.valuation?.warnLevel).toBe(usd(11));
  });

  it('does not report it under a stricter level, but still gives the probability', () => {
    const health = assessAccount(holding, at(0.4));
    expect(health.atRisk).toBe(false);
    expect(health.valuation?.breachProbability).toBeCloseTo(0.3173105, 6);
  });

  it('is certain for an account already below maintenance', () => {
    const below = account('0xb', usd(9.99), holding.positions);
    expect(assessAccount(below, at(0.3)).valuation?.breachProbability).toBe(1);
  });

  it('is off without a level', () => {
    const health = assessAccount(holding, table({ markets: [market('ETH')], states: [priced(price8(100), { market: 'ETH', variance: 2 ** -20 })], config: config({ actionSeconds: 64 }) }));
    expect(health.atRisk).toBe(false);
    expect(health.valuation?.breachProbability).toBeUndefined();
  });

  it('rejects a level that is not a probability', () => {
    expect(() => config({ forecastLevel: 1 })).toThrow(RelayerError);
    expect(() => config({ forecastLevel: 0 })).toThrow(/risk.forecastLevel must be a probability in \(0, 1\), got 0/);
  });
});

describe('the forecast decision and its probability', () => {
  it.each([61, 62, 63])('agree on random accounts, cross-margin included (seed %i)', (seed) => {
    const random = new SeededRandom(seed);
    const markets = randomMarkets(random);
    const prices = markets.map((m) => randomPrice(random, m));
    const level = random.pick([0.01, 0.05, 0.3]);
    const state = table({
      markets,
      states: markets.map((m, i) => ({ round: { market: m.id, roundId: 1n, answer: prices[i] ?? 1n, updatedAt: T0 - random.int(0, 200) }, variance: random.pick([1e-8, 1e-6, 1e-5]) })),
      config: config({ actionSeconds: 60, forecastLevel: level }),
    });
    let forecasts = 0;
    let quiet = 0;
    for (let i = 0; i < 400; i++) {
      const health = assessAccount(randomAccount({ random, id: `a${i}`, markets, prices }), state);
      const probability = health.valuation?.breachProbability ?? Number.NaN;
      if (health.reasons.some((reason) => reason.kind === 'forecast')) {
        forecasts += 1;
        expect(probability).toBeGreaterThan(level - 1e-6);
      } else {
        quiet += 1;
        expect(probability).toBeLessThanOrEqual(level + 1e-6);
      }
    }
    expect(forecasts).toBeGreaterThan(10);
    expect(quiet).toBeGreaterThan(10);
  });
});
