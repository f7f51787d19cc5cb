/** Token amounts are numeric(78,0) in SQL and bigint in TypeScript: exact at any size. */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerDatabase } from '../../db/client.js';
import { getLeg } from '../../db/ledger/index.js';
import { bigintFromDriver } from '../../db/schema/columns.js';
import { legs, shortfalls } from '../../db/schema/index.js';
import { collateralLeg, createPlan, seedChains } from './support/fixtures.js';
import { createMigratedLedger } from './support/test-database.js';

const AMOUNTS = [
  0n,
  1n,
  2n ** 53n + 1n, // the first integer a JS number cannot hold
  2n ** 64n,
  2n ** 64n + 1n,
  2n ** 128n,
  2n ** 128n + 12_345n,
  2n ** 256n - 1n, // uint256 max: still fits numeric(78, 0)
];

let db: LedgerDatabase;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const created = await createMigratedLedger();
  db = created.ledger.db;
  cleanup = created.cleanup;
  await seedChains(db);
});

afterAll(async () => {
  await cleanup?.();
});

describe('token amounts', () => {
  it.each(AMOUNTS)('%s survives a round trip exactly, as bigint and as SQL text', async (amount) => {
    const { legIds } = await createPlan(db, { legs: [collateralLeg(amount, { positionSize: -amount })] });
    const legId = legIds[0] ?? '0x';
    const leg = await getLeg(db, legId as `0x${string}`);
    expect(leg?.amount).toBe(amount);
    expect(leg?.positionSize).toBe(-amount);
    const [row] = await db
      .select({ text: sql<string>`${legs.amount}::text`, plusOne: sql<string>`(${legs.amount} + 1)::text` })
      .from(legs)
      .where(eq(legs.id, legId as `0x${string}`));
    expect(row).toEqual({ text: amount.toString(), plusOne: (amount + 1n).toString() });
  });

  it('keeps sums exact in SQL above 2^128', async () => {
    const { settlementId } = await createPlan(db, { legs: [collateralLeg(2n ** 128n), collateralLeg(2n ** 128n + 1n)] });
    const [row] = await db
      .select({ total: sql<string>`sum(${legs.amount})::text` })
      .from(legs)
      .where(eq(legs.settlementId, settlementId));
    expect(row?.total).toBe((2n ** 129n + 1n).toString());
  });

  it('keeps signed amounts (equity) exact', async () => {
    const { shortfallId } = await createPlan(db, { legs: [collateralLeg(1n)] });
    await db.update(shortfalls).set({ equity: -(2n ** 200n) }).where(eq(shortfalls.id, shortfallId));
    const [row] = await db.select({ equity: shortfalls.equity }).from(shortfalls).where(eq(shortfalls.id, shortfallId));
    expect(row?.equity).toBe(-(2n ** 200n));
  });

  it('refuses amounts that do not fit, and negative ones where amounts are unsigned', async () => {
    await expect(createPlan(db, { legs: [collateralLeg(10n ** 78n)] })).rejects.toThrow();
    await expect(createPlan(db, { legs: [collateralLeg(-1n)] })).rejects.toThrow();
  });

  it('never takes a JS number from a driver: it would already have lost digits', () => {
    expect(bigintFromDriver('340282366920938463463374607431768211456')).toBe(2n ** 128n);
    expect(() => bigintFromDriver(2 ** 64)).toThrow(TypeError);
    expect(() => bigintFromDriver('1.5')).toThrow(TypeError);
  });
});
