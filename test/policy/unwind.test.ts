import { describe, expect, it } from 'vitest';
import { decideUnwind, SnapshotError, type UnwindPosition } from '../../relayer/policy/index.js';

const USD = 1_000_000n;
/** A backstop long of 20,000 USD in a fee-free pool of 1,000,000 USD at the reference price, 1% of budget. */
const held = (overrides: Partial<UnwindPosition> = {}): UnwindPosition => ({
  marketId: 'ETH-USD',
  notional: 20_000n * USD,
  long: true,
  pool: { quoteReserve: 1_000_000n * USD, priceRatio: 1, fee: 0 },
  budget: 0.01,
  ...overrides,
});

describe('unwinding the backstop', () => {
  it('sells a long only down to the budget: Q (1 / sqrt(1 - b) - 1), and nothing more once the pool is there', () => {
    // 1,000,000 x (1 / sqrt(0.99) - 1) = 5,037.88 USD; the price then sits at 0.99 of the reference.
    const [order, ...more] = decideUnwind({ positions: [held()], minTrade: USD });
    expect(more).toEqual([]);
    expect(order).toMatchObject({ marketId: 'ETH-USD', sell: true, worstPriceRatio: 0.99 });
    expect(Number(order?.notional) / 1e6).toBeCloseTo(1e6 * (1 / Math.sqrt(0.99) - 1), 5);
    // Selling x base into B = Q / ref moves the price by (B / (B + x))^2: after that sale, 0.99.
    const moved = (1 / (1 + Number(order?.notional) / 1e6 / 1e6)) ** 2;
    expect(moved).toBeCloseTo(0.99, 9);
    expect(decideUnwind({ positions: [held({ pool: { quoteReserve: 1_000_000n * USD, priceRatio: moved, fee: 0 } })], minTrade: USD })).toEqual([]);
  });

  it('buys a short back up to the budget: Q (1 - 1 / sqrt(1 + b)); a pool already past it takes nothing', () => {
    const [order] = decideUnwind({ positions: [held({ long: false })], minTrade: USD });
    expect(order).toMatchObject({ sell: false, worstPriceRatio: 1.01 });
    expect(Number(order?.notional) / 1e6).toBeCloseTo(1e6 * (1 - 1 / Math.sqrt(1.01)), 5);
    expect(decideUnwind({ positions: [held({ long: false, pool: { quoteReserve: 1_000_000n * USD, priceRatio: 1.02, fee: 0 } })], minTrade: USD })).toEqual([]);
  });

  it('a pool still below the reference from earlier sales takes less; a fee takes more input for the same move', () => {
    // At 0.995 of the reference: 1e6 / sqrt(0.995 x 0.99) - 1e6 / 0.995 = 2,518.9 USD.
    const [after] = decideUnwind({ positions: [held({ pool: { quoteReserve: 1_000_000n * USD, priceRatio: 0.995, fee: 0 } })], minTrade: USD });
    expect(Number(after?.notional) / 1e6).toBeCloseTo(1e6 / Math.sqrt(0.995 * 0.99) - 1e6 / 0.995, 4);
    const [withFee] = decideUnwind({ positions: [held({ pool: { quoteReserve: 1_000_000n * USD, priceRatio: 1, fee: 0.003 } })], minTrade: USD });
    expect(Number(withFee?.notional) / 1e6).toBeCloseTo((1e6 * (1 / Math.sqrt(0.99) - 1)) / 0.997, 4);
  });

  it('sells all of a small inventory, and nothing below the smallest trade', () => {
    expect(decideUnwind({ positions: [held({ notional: 300n * USD })], minTrade: USD })).toEqual([{ marketId: 'ETH-USD', sell: true, notional: 300n * USD, worstPriceRatio: 0.99 }]);
    expect(decideUnwind({ positions: [held({ notional: USD / 2n })], minTrade: USD })).toEqual([]);
    expect(decideUnwind({ positions: [held({ budget: 0 })], minTrade: USD })).toEqual([]);
  });

  it.each([
    ['positions[0].notional', { notional: -1n }],
    ['positions[0].pool.priceRatio', { pool: { quoteReserve: USD, priceRatio: 0, fee: 0 } }],
    ['positions[0].pool.fee', { pool: { quoteReserve: USD, priceRatio: 1, fee: 1 } }],
    ['positions[0].budget', { budget: 1 }],
    ['positions[0].budget', { budget: Number.NaN }],
  ] as const)('refuses a snapshot with a bad %s, naming it', (field, overrides) => {
    const run = () => decideUnwind({ positions: [held(overrides)], minTrade: USD });
    expect(run).toThrow(SnapshotError);
    expect(run).toThrow(field);
  });
});
