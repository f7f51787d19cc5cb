import { describe, expect, it } from 'vitest';
import { Vault } from '../../relayer/simulate/vault.js';

// Two chains, one market (initial margin 10%); prices by slot: chain * 1 + market.
const vault = (): Vault => new Vault({ reserves: [1000, 500], marketCount: 1, initialFractions: [0.1] });

describe('the vault', () => {
  it('holds absorbed positions at average cost and marks them at the oracle', () => {
    const v = vault();
    v.trade({ slot: 0, size: 2, price: 100 });
    v.trade({ slot: 0, size: 2, price: 90 }); // 4 units at an average of 95
    expect(v.entry[0]).toBeCloseTo(95, 12);
    const prices = Float64Array.from([80, 80]);
    expect(v.value(prices)).toBeCloseTo(1500 + 4 * (80 - 95), 12); // 1,440
    // Free on chain 0: reserve 1,000 - loss 60 - margin 10% of 4 * 80 = 908.
    expect(v.free(0, prices)).toBeCloseTo(908, 12);
    expect(v.free(1, prices)).toBe(500);
  });

  it('realizes the PnL of an opposite trade into the reserve, and keeps the rest at its entry', () => {
    const v = vault();
    v.trade({ slot: 0, size: 4, price: 95 });
    const realized = v.trade({ slot: 0, size: -1, price: 99 }); // sells 1 at 99: +4
    expect(realized).toBeCloseTo(4, 12);
    expect(v.reserve[0]).toBeCloseTo(1004, 12);
    expect(v.inventory[0]).toBeCloseTo(3, 12);
    expect(v.entry[0]).toBeCloseTo(95, 12);
    v.trade({ slot: 0, size: -5, price: 100 }); // closes 3 (+15) and opens 2 short at 100
    expect(v.reserve[0]).toBeCloseTo(1019, 12);
    expect(v.inventory[0]).toBeCloseTo(-2, 12);
    expect(v.entry[0]).toBe(100);
  });

  it('counts liquidity in flight between chains in its value', () => {
    const v = vault();
    v.send(1, 200);
    const prices = Float64Array.from([100, 100]);
    expect(v.value(prices)).toBe(1500);
    v.receive(0, 200);
    expect([v.reserve[0], v.reserve[1], v.inFlight]).toEqual([1200, 300, 0]);
  });
});
