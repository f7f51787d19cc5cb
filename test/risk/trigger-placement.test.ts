import { describe, expect, it } from 'vitest';
import { AccountColumns } from '../../relayer/risk/account-columns.js';
import { accountVerdict } from '../../relayer/risk/account-verdict.js';
import { compileAccount } from '../../relayer/risk/compiled-account.js';
import { effectivePrices, WARN } from '../../relayer/risk/effective-price.js';
import { placeConditionTriggers, type Trigger } from '../../relayer/risk/trigger-placement.js';
import { RATE_SCALE } from '../../relayer/risk/units.js';
import { account, market, price8, priced, table, units, usd } from './fixtures.js';

function triggersOf(state: Parameters<typeof compileAccount>[0], markets: ReturnType<typeof table>): Trigger[] {
  const compiled = compileAccount(state, markets.catalog);
  const verdict = accountVerdict(compiled, markets);
  const health = verdict.warnHealth ?? 0n;
  const triggers: Trigger[] = [];
  const columns = new AccountColumns({ markets: markets.markets.length });
  columns.set(0, compiled, Number(markets.catalog.denominator));
  placeConditionTriggers({
    sizes: columns.sizes,
    offset: 0,
    condition: WARN,
    health: Number(health) / (Number(markets.catalog.denominator) * Number(RATE_SCALE)),
    healthy: health >= 0n,
    prices: markets.markets.map((snapshot) => effectivePrices(snapshot, 1)),
    sink: { add: (trigger) => triggers.push(trigger) },
  });
  return triggers;
}

/** Within 1e-9 of `expected`: the budgets keep back a 1e-9 share of the health for float error. */
function expectNear(level: number | undefined, expected: bigint): void {
  expect(Math.abs((level ?? Number.NaN) - Number(expected)) / Number(expected)).toBeLessThan(1e-9);
}

describe('trigger placement', () => {
  const markets = table({ markets: [market('ETH'), market('BTC')], states: [priced(price8(100), { market: 'ETH' }), priced(price8(100), { market: 'BTC' })] });

  it('puts a single long exactly at its breach level, in effective-price terms', () => {
    // 1 ETH long from 100 with 10 USD, warn rate 5.5%: breach at P* = 90 / 0.945, i.e. pi = P* * 0.945 = 90.
    const [trigger, ...rest] = triggersOf(account('a', usd(10), [{ market: 'ETH', size: units(1), entryPrice: price8(100) }]), markets);
    expect(rest).toEqual([]);
    expect(trigger).toMatchObject({ market: 0, slot: 0, below: true });
    expectNear(trigger?.level, price8(90));
  });

  it('puts a breached short on its recovery, below', () => {
    // 1 ETH short from 100 with 5 USD at 100: H = 5 - 5.5 < 0; recovery when 5 + 100 - P >= 0.055 P,
    // at pi = P * 1.055 = 105.
    const [trigger] = triggersOf(account('b', usd(5), [{ market: 'ETH', size: -units(1), entryPrice: price8(100) }]), markets);
    expect(trigger).toMatchObject({ market: 0, slot: 1, below: true });
    expectNear(trigger?.level, price8(105));
  });

  it('splits the health of a cross-margin account so that the same relative move fires in each market', () => {
    // 1 ETH long and 1 BTC long from 100 with 20 USD: H = 20 - 11 = 9 over exposure 2 * 94.5:
    // each effective price may fall by 9 / 189 of itself, to 94.5 * (1 - 9/189) = 90.
    const triggers = triggersOf(
      account('c', usd(20), [
        { market: 'ETH', size: units(1), entryPrice: price8(100) },
        { market: 'BTC', size: units(1), entryPrice: price8(100) },
      ]),
      markets,
    );
    expect(triggers.map((t) => [t.market, t.below])).toEqual([
      [0, true],
      [1, true],
    ]);
    for (const trigger of triggers) expectNear(trigger.level, price8(90));
  });
});
