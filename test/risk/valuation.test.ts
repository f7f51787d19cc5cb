import { describe, expect, it } from 'vitest';
import { RelayerError } from '../../relayer/errors.js';
import { assessAccount } from '../../relayer/risk/account-health.js';
import { compileAccount } from '../../relayer/risk/compiled-account.js';
import { equity } from '../../relayer/risk/equity.js';
import { effectiveMaintenanceRequirement, maintenanceRequirement } from '../../relayer/risk/maintenance.js';
import { requiredAmount } from '../../relayer/risk/required-amount.js';
import { account, E18, market, percent, price8, priced, table, units, usd } from './fixtures.js';

const eth = market('ETH', { maintenanceFraction: percent(5n) });
const btc = market('BTC', { maintenanceFraction: percent(4n) });

describe('equity, maintenance and the required amount, worked by hand', () => {
  // 10 ETH long from 2000 at 1900 with 2000 USD: E = 2000 - 1000 = 1000; MM = 19000 * 5% = 950.
  // m_eff = m (negligible volatility), warn 10% -> 1045, target 20% -> 1140, required 140.
  const markets = [eth];
  const at1900 = table({ markets, states: [priced(price8(1900), { market: 'ETH' })] });
  const long = account('0xa', usd(2000), [{ market: 'ETH', size: units(10), entryPrice: price8(2000) }]);

  it('values a long below its warn level', () => {
    const compiled = compileAccount(long, at1900.catalog);
    expect(equity(compiled, at1900)).toBe(usd(1000));
    expect(maintenanceRequirement(compiled, at1900)).toBe(usd(950));
    expect(effectiveMaintenanceRequirement(compiled, at1900)).toBe(usd(950));
    expect(requiredAmount(compiled, at1900)).toBe(usd(140));
    const health = assessAccount(long, at1900);
    expect(health.atRisk).toBe(true);
    expect(health.reasons).toEqual([{ kind: 'below-warn' }]);
    expect(health.valuation).toMatchObject({
      equity: usd(1000),
      maintenance: usd(950),
      effectiveMaintenance: usd(950),
      warnLevel: usd(1045),
      targetLevel: usd(1140),
      shortfall: -usd(50),
      requiredAmount: usd(140),
      // m_eff (1 + target) = 5% x 120% = 6%, at RATE_SCALE (WAD^2).
      effectiveFractions: [{ market: 'ETH', fraction: percent(5n), targetRate: percent(5n) * percent(120n) }],
    });
  });

  it('adding exactly the required amount reaches the target; one base unit less does not', () => {
    const topped = assessAccount({ ...long, collateral: long.collateral + usd(140) }, at1900);
    expect(topped.valuation?.requiredAmount).toBe(0n);
    expect(topped.atRisk).toBe(false);
    const short = assessAccount({ ...long, collateral: long.collateral + usd(140) - 1n }, at1900);
    expect(short.valuation?.requiredAmount).toBe(1n);
  });

  it('values a short: 5 ETH short from 1800 at 1900 with 1000 USD', () => {
    // E = 1000 - 5 * 100 = 500; MM = 9500 * 5% = 475; warn 522.5; target 570 -> 70 required.
    const short = account('0xb', usd(1000), [{ market: 'ETH', size: -units(5), entryPrice: price8(1800) }]);
    const health = assessAccount(short, at1900);
    expect(health.valuation).toMatchObject({ equity: usd(500), maintenance: usd(475), warnLevel: usd(522.5), requiredAmount: usd(70) });
    expect(health.atRisk).toBe(true);
  });

  it('values a cross-margin account over two markets', () => {
    // 1 BTC long from 60000, 10 ETH short from 2000, 5000 USD. At BTC 58000 / ETH 1900:
    // E = 5000 - 2000 + 1000 = 4000; MM = 2320 + 950 = 3270; warn 3597: healthy, nothing required.
    // At BTC 57000: E = 3000; MM = 2280 + 950 = 3230; warn 3553: at risk; target 3876 -> 876.
    const cross = account('0xc', usd(5000), [
      { market: 'BTC', size: units(1), entryPrice: price8(60000) },
      { market: 'ETH', size: -units(10), entryPrice: price8(2000) },
    ]);
    const at = (btcPrice: number) =>
      table({ markets: [eth, btc], states: [priced(price8(1900), { market: 'ETH' }), priced(price8(btcPrice), { market: 'BTC' })] });
    const healthy = assessAccount(cross, at(58000));
    expect(healthy.valuation).toMatchObject({ equity: usd(4000), maintenance: usd(3270), warnLevel: usd(3597), requiredAmount: 0n });
    expect(healthy.atRisk).toBe(false);
    expect(healthy.reasons).toEqual([]);
    const falling = assessAccount(cross, at(57000));
    expect(falling.valuation).toMatchObject({ equity: usd(3000), maintenance: usd(3230), warnLevel: usd(3553), targetLevel: usd(3876), requiredAmount: usd(876) });
    expect(falling.atRisk).toBe(true);
  });

  it('rounds equity down and every requirement up, to whole base units', () => {
    // 1e-18 of an asset at 1.00 from 2.00 with no collateral: PnL -1e-12 base units -> equity -1;
    // MM = 5e-14 base units -> 1; the target gap 6e-14 + 1e-12 -> 1.
    const dust = account('0xd', 0n, [{ market: 'ETH', size: 1n, entryPrice: price8(2) }]);
    const health = assessAccount(dust, table({ markets, states: [priced(price8(1), { market: 'ETH' })] }));
    expect(health.valuation).toMatchObject({ equity: -1n, maintenance: 1n, effectiveMaintenance: 1n, warnLevel: 1n, targetLevel: 1n, requiredAmount: 1n, shortfall: 1n });
  });

  it('adds feeds of different decimals over one denominator', () => {
    // An 18-decimal feed next to an 8-decimal one: 1 unit long from 100 at 110 in each is +10 USD each.
    const wide = market('WIDE', { priceDecimals: 18 });
    const state = table({
      markets: [eth, wide],
      states: [priced(price8(110), { market: 'ETH' }), priced(110n * E18, { market: 'WIDE' })],
    });
    const both = account('0xe', usd(100), [
      { market: 'ETH', size: units(1), entryPrice: price8(100) },
      { market: 'WIDE', size: units(1), entryPrice: 100n * E18 },
    ]);
    expect(assessAccount(both, state).valuation).toMatchObject({ equity: usd(120), maintenance: usd(11) });
  });

  it('ignores a zero position and counts an account without positions by its collateral', () => {
    const flat = account('0xf', usd(3), [{ market: 'ETH', size: 0n, entryPrice: price8(2000) }]);
    expect(assessAccount(flat, at1900)).toMatchObject({ atRisk: false, valuation: { equity: usd(3), maintenance: 0n, requiredAmount: 0n } });
    expect(assessAccount(account('0x10', -1n), at1900).atRisk).toBe(true);
  });

  it('rejects accounts it cannot value with a message naming the problem', () => {
    expect(() => assessAccount(account('0x11', 0n, [{ market: 'DOGE', size: 1n, entryPrice: 1n }]), at1900)).toThrow(
      new RelayerError('market DOGE is not configured'),
    );
    expect(() =>
      assessAccount(
        account('0x12', 0n, [
          { market: 'ETH', size: 1n, entryPrice: 1n },
          { market: 'ETH', size: 2n, entryPrice: 1n },
        ]),
        at1900,
      ),
    ).toThrow(/account 0x12 has two positions in market ETH/);
    expect(() => assessAccount(account('0x13', 0n, [{ market: 'ETH', size: 1n, entryPrice: -5n }]), at1900)).toThrow(
      /account 0x13: entry price in market ETH must not be negative, got -5/,
    );
  });
});
