import { describe, expect, it } from 'vitest';
import { exitValue, stressedEquity } from '../../relayer/simulate/inventory-exit.js';
import { vaultCapacity } from '../../relayer/simulate/strategies/relayer/vault-capacity.js';
import { Vault } from '../../relayer/simulate/vault.js';
import { runAccounts, tinyScenario } from './fixtures.js';

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

describe("a vault's capacity and its inventory at exit value", () => {
  // The tiny scenario's world at its end: beta's ETH pool at $1,000, x = 1,000 ETH, no fee.
  // Selling 10 ETH into it fetches 1e6 * 10 / 1,010 = 9,900.99, not the oracle's 10,000.
  const world = () => runAccounts({ scenario: tinyScenario(), accounts: [], prices: [1000, 1000, 1000, 1000], strategy: 'relayer' }).state;
  const proceeds = (1e6 * 10) / 1010;

  it('offers its reserve less the margin its inventory ties up, with the inventory marked at what selling it would fetch', () => {
    const state = world();
    state.vault.reserve[1] = 3000;
    state.vault.trade({ slot: 1, size: 10, price: 1000 }); // 10 ETH at 1,000: no PnL at the oracle
    expect(state.vault.free(1, state.world.oraclePrices)).toBeCloseTo(2000, 9); // oracle mark: 3,000 - 1,000 of margin
    expect(stressedEquity({ world: state.world, vault: state.vault, chain: 1 })).toBeCloseTo(3000 + proceeds - 10_000, 9);
    expect(vaultCapacity(state, 1)).toBeCloseTo(3000 + proceeds - 10_000 - 1000, 9);
    expect(exitValue({ world: state.world, vault: state.vault })).toBeCloseTo(3000 + proceeds - 10_000, 9);
  });

  it('offers nothing once its stressed equity is gone, though its reserve is still there', () => {
    const state = world();
    state.vault.reserve[1] = 1000;
    state.vault.trade({ slot: 1, size: 10, price: 1200 }); // bought at 1,200: -2,000 at the oracle, -2,099 at exit
    expect(state.vault.reserve[1]).toBe(1000);
    expect(stressedEquity({ world: state.world, vault: state.vault, chain: 1 })).toBeLessThan(0);
    expect(vaultCapacity(state, 1)).toBe(0);
  });
});
