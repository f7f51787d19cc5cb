/** The backstop's book: unwinds recorded once per log, marks per block, and the inventory report's arithmetic. */
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerDatabase } from '../../db/client.js';
import { recordBackstopMarks, recordBackstopUnwind, type BackstopUnwind } from '../../db/ledger/index.js';
import { readReport } from '../../db/reports/read-report.js';
import { ALPHA, hashOf, seedChains } from './support/fixtures.js';
import { createMigratedLedger } from './support/test-database.js';

let db: LedgerDatabase;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const created = await createMigratedLedger();
  ({ cleanup } = created);
  ({ db } = created.ledger);
  await seedChains(db);
});

afterAll(async () => {
  await cleanup?.();
});

const ETH: Hash = `0x${'e7'.repeat(32)}`;
const UNIT = 10n ** 18n;
const usd = (amount: bigint) => amount * 1_000_000n;
const price = (amount: bigint) => amount * 100_000_000n;

/** A sale of 2 ETH of the backstop's long at 1,980 against an oracle of 2,000: 40 USD of slippage, entry 2,100, so 240 USD realised loss. */
const sale = (overrides: Partial<BackstopUnwind> = {}): BackstopUnwind => ({
  chainId: ALPHA,
  txHash: hashOf('unwind-1'),
  logIndex: 3,
  blockNumber: 50n,
  marketId: ETH,
  size: 2n * UNIT,
  oraclePrice: price(2000n),
  executionPrice: price(1980n),
  poolPrice: price(1960n),
  proceeds: usd(3960n),
  slippage: usd(40n),
  realizedPnl: -usd(240n),
  unwoundAt: new Date('2026-12-07T10:00:00Z'),
  ...overrides,
});

describe("the backstop's book", () => {
  it('records a trade once however often its log is seen, and reports inventory with realised and unrealised PnL', async () => {
    expect(await recordBackstopUnwind(db, sale())).toBe(true);
    expect(await recordBackstopUnwind(db, sale())).toBe(false);
    // A second sale of 1 ETH at 1,990, a block later: slippage 10, realised (1,990 - 2,100) = -110.
    expect(await recordBackstopUnwind(db, sale({ txHash: hashOf('unwind-2'), blockNumber: 51n, size: UNIT, executionPrice: price(1990n), proceeds: usd(1990n), slippage: usd(10n), realizedPnl: -usd(110n) }))).toBe(true);
    // Marks: 10 ETH at block 49, 7 ETH left at block 51 marked at 2,050 against its entry 2,100: -350.
    await recordBackstopMarks(db, [
      { chainId: ALPHA, marketId: ETH, blockNumber: 49n, size: 10n * UNIT, entryPrice: price(2100n), oraclePrice: price(2000n), unrealizedPnl: -usd(1000n), markedAt: new Date('2026-12-07T09:59:00Z') },
      { chainId: ALPHA, marketId: ETH, blockNumber: 51n, size: 7n * UNIT, entryPrice: price(2100n), oraclePrice: price(2050n), unrealizedPnl: -usd(350n), markedAt: new Date('2026-12-07T10:00:12Z') },
    ]);
    const report = await readReport(db, 'backstop-inventory');
    expect(report.rows).toEqual([
      {
        chain: 'alpha',
        market_id: ETH,
        size: String(7n * UNIT),
        entry_price: String(price(2100n)),
        mark_price: String(price(2050n)),
        marked_block: '51',
        unwinds: 2,
        unwound_size: String(3n * UNIT),
        last_unwind_block: '51',
        realized_pnl_usd: '-350.000000',
        unrealized_pnl_usd: '-350.000000',
        unwind_slippage_usd: '50.000000',
      },
    ]);
  });

  it('refuses a trade of no size, naming the check', async () => {
    await expect(recordBackstopUnwind(db, sale({ txHash: hashOf('unwind-0'), size: 0n }))).rejects.toMatchObject({ cause: { constraint: 'backstop_unwinds_size_check' } });
  });
});
