import { describe, expect, it } from 'vitest';
import { assessAccount } from '../../relayer/risk/account-health.js';
import { effectiveMarginFraction } from '../../relayer/risk/effective-margin.js';
import { marketSnapshot } from '../../relayer/risk/market-snapshot.js';
import { oracleAge } from '../../relayer/risk/oracle-staleness.js';
import { account, config, market, percent, price8, priced, T0, table, units, usd } from './fixtures.js';

// sigma = 2^-8 per sqrt(second) and a 64 s horizon make z * sigma * sqrt(T) = 3 / 2^8 * 8 = 0.09375 exactly.
const SIGMA2 = 2 ** -16;

describe('m_eff = max(m, z sigma sqrt(T_act + T_oracle))', () => {
  it('takes the volatility term when it is larger, exactly and rounded up into WAD', () => {
    expect(effectiveMarginFraction({ maintenanceFraction: percent(5n), sigma: 2 ** -8, horizonSeconds: 64, z: 3 })).toBe(93_750_000_000_000_000n);
    expect(effectiveMarginFraction({ maintenanceFraction: percent(10n), sigma: 2 ** -8, horizonSeconds: 64, z: 3 })).toBe(percent(10n));
    expect(effectiveMarginFraction({ maintenanceFraction: percent(5n), sigma: 2 ** -8, horizonSeconds: 64, z: 1 })).toBe(percent(5n));
  });

  it('counts the age of the price in the horizon: T_act 40 s plus a round 24 s old', () => {
    const snapshot = marketSnapshot({
      market: market('ETH'),
      state: priced(price8(100), { market: 'ETH', updatedAt: T0 - 24, variance: SIGMA2 }),
      config: config({ actionSeconds: 40 }),
      now: T0,
    });
    expect(snapshot).toMatchObject({ freshness: 'fresh', ageSeconds: 24, horizonSeconds: 64, sigma: 2 ** -8, effectiveFraction: 93_750_000_000_000_000n });
  });

  it('caps T_oracle at the heartbeat and marks the price stale past it', () => {
    expect(oracleAge({ now: T0 + 5000, updatedAt: T0, heartbeatSeconds: 3600 })).toEqual({ ageSeconds: 5000, stale: true, oracleSeconds: 3600 });
    expect(oracleAge({ now: T0 + 3600, updatedAt: T0, heartbeatSeconds: 3600 })).toEqual({ ageSeconds: 3600, stale: false, oracleSeconds: 3600 });
    // A round stamped after the block clock is not older than 0.
    expect(oracleAge({ now: T0, updatedAt: T0 + 7, heartbeatSeconds: 3600 })).toEqual({ ageSeconds: 0, stale: false, oracleSeconds: 0 });
  });

  it('raises the requirement of an account with the volatility term', () => {
    // 1 unit long at 100, no PnL; m_eff 9.375% -> MM_eff 9.375 USD, warn 10% -> 10.3125, target 20% -> 11.25.
    const state = table({
      markets: [market('ETH')],
      states: [priced(price8(100), { market: 'ETH', updatedAt: T0 - 24, variance: SIGMA2 })],
      config: config({ actionSeconds: 40 }),
    });
    const health = assessAccount(account('0xa', usd(10), [{ market: 'ETH', size: units(1), entryPrice: price8(100) }]), state);
    expect(health.valuation).toMatchObject({ maintenance: usd(5), effectiveMaintenance: usd(9.375), warnLevel: usd(10.3125), targetLevel: usd(11.25), requiredAmount: usd(1.25) });
    expect(health.atRisk).toBe(true);
  });
});

describe('a price that cannot vouch for the account', () => {
  const markets = [market('ETH'), market('BTC')];
  const rich = account('0xb', usd(1_000_000), [
    { market: 'ETH', size: units(1), entryPrice: price8(100) },
    { market: 'BTC', size: units(1), entryPrice: price8(100) },
  ]);

  it('makes a stale price at-risk with the age, even for an account far above its margin', () => {
    const state = table({
      markets,
      states: [priced(price8(100), { market: 'ETH', updatedAt: T0 - 3601 }), priced(price8(100), { market: 'BTC' })],
    });
    const health = assessAccount(rich, state);
    expect(health.atRisk).toBe(true);
    expect(health.reasons).toEqual([{ kind: 'stale-price', market: 'ETH', ageSeconds: 3601, heartbeatSeconds: 3600 }]);
    // Still valued at the last price, with T_oracle capped at the heartbeat.
    expect(health.valuation?.equity).toBe(usd(1_000_000));
  });

  it('makes a missing price at-risk, with nothing valued', () => {
    const state = table({ markets, states: [priced(price8(100), { market: 'ETH' }), { round: undefined, variance: 1e-12 }] });
    expect(assessAccount(rich, state)).toEqual({ account: '0xb', atRisk: true, reasons: [{ kind: 'missing-price', market: 'BTC' }], valuation: undefined });
  });

  it('does not concern an account without a position in that market', () => {
    const state = table({ markets, states: [priced(price8(100), { market: 'ETH' }), { round: undefined, variance: 1e-12 }] });
    const ethOnly = account('0xc', usd(1000), [{ market: 'ETH', size: units(1), entryPrice: price8(100) }]);
    expect(assessAccount(ethOnly, state).atRisk).toBe(false);
  });
});
