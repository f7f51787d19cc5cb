/**
 * Shared inventory (issue 13, item 3): plans made at the same time draw on one vault's reserve,
 * and the ledger, not the planners' reads, decides who gets it. Every account here has one long
 * position, is below initial margin (so the backstop may absorb) and above maintenance (so no
 * home action and no local close): a takeover funded by a vault (`liquidity`) is its only
 * option. Two vaults offer it: beta's, cheaper, with a reserve for a few takeovers only, and
 * gamma's, dearer (a higher fixed cost), with plenty.
 *
 * The world re-reads each vault honestly for every decision: the gross reserve less what the
 * ledger has reserved on it (`reservedOnSources`) at one fixed observed block, and it tells the
 * ledger the gross reserve and that block (`observed`), so every liquidity leg is recorded only
 * if it fits. A gate holds the first reads until a given number of them are waiting, so those
 * plans all read the same net reserve: the ones that do not fit must be refused by the ledger
 * and re-planned over what is left. Nothing here runs legs (no leg executor): leg jobs wait.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Address, Hash } from 'viem';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { legs, reservedOnSources, settlements, shortfalls, type LedgerHandle, type LegReservation } from '../../db/index.js';
import { sourceKey, type AccountWorld, type WorldRequest, type WorldSource } from '../../relayer/orchestrator/chain-world.js';
import { defaultPolicySettings } from '../../relayer/orchestrator/fixed-world.js';
import { startOrchestrator, type Orchestrator } from '../../relayer/orchestrator/orchestrator.js';
import { jobId } from '../../relayer/orchestrator/queues.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import type { PolicyPosition, PolicySource } from '../../relayer/policy/index.js';
import { ALPHA, BETA, GAMMA, seedChains } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { syntheticReport } from './support/synthetic-report.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The block every vault is read at: a leg planned (not yet sent) counts against it whatever it is. */
const OBSERVED_BLOCK = 100n;

/*
 * The numbers, chosen exact in binary floating point so the core's USD arithmetic rounds nothing:
 * a 10 000 USD long (5 units at 2 000 USD), maintenance 1/16, initial 1/8, penalty 1/64, and a
 * target of 25% above maintenance (m_eff = 1/16, so the target fraction is 5/64).
 *   MM = 625 USD, IM = 1 250 USD, equity 700 USD (between them), target level 781.25 USD:
 *   required = 81.25 USD. A takeover of x relieves x (5/64 - 1/64) = x / 16, so 1 300 USD of
 *   notional, for which the vault commits x IM = 162.5 USD of margin: one liquidity leg.
 */
/*
 * No volatility priced (sigma 0): a takeover carries no risk price, and the account cannot be
 * expected to fall to maintenance, so no local reduction is waited for instead (issue 14).
 */
const POLICY = { ...defaultPolicySettings, target: 0.25, sigmaPrior: 0 };
const M_EFF = 0.0625;
const HEALTH = { equity: 700_000_000n, maintenance: 625_000_000n, initial: 1_250_000_000n } as const;
const REQUIRED = 81_250_000n;
/** What one shortfall's liquidity leg moves: the margin for 1 300 USD of the position. */
const LEG_AMOUNT = 162_500_000n;
/** The size of the position that leg absorbs: 1 300 USD at 2 000 USD a unit (18 decimals). */
const LEG_SIZE = 650_000_000_000_000_000n;
const MARKET: Hash = `0x${'4d'.repeat(32)}`;
const PRICE = 200_000_000_000n; // 2 000 USD, 8 decimals
const SIZE = 5_000_000_000_000_000_000n; // 5 units, 18 decimals

const position = (request: WorldRequest): PolicyPosition => ({
  marketId: MARKET,
  notional: 10_000_000_000n,
  long: true,
  maintenanceFraction: 0.0625,
  initialFraction: 0.125,
  liquidationBufferFraction: 0,
  targetFraction: request.targetFraction(MARKET, 0.0625),
  penalty: 0.015625,
  oraclePrice: 2_000,
  sigma: request.sigma(MARKET, 0.0625),
  backstopNotional: 0n,
  // The engine's AMM: 500 units and 1,000,000 USD, at the oracle.
  pool: { quoteReserve: 1_000_000_000_000n, baseReserve: 500, fee: 0 },
});

interface Vault {
  readonly chainId: number;
  readonly key: string;
  /** The gross reserve, as a read on chain at OBSERVED_BLOCK would show it. */
  readonly reserve: bigint;
  readonly fixedCostUsd: number;
}

/** Holds reads until `size` of them wait together (or `timeoutMs` passes, which the tests count as a failure). */
class ReadGate {
  openedBy: 'count' | 'timeout' | undefined;
  private readonly held: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly size: number,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(() => this.open('timeout'), timeoutMs);
  }
  pass(): Promise<void> {
    if (this.openedBy) return Promise.resolve();
    const waiting = new Promise<void>((resolve) => this.held.push(resolve));
    if (this.held.length >= this.size) this.open('count');
    return waiting;
  }
  private open(by: 'count' | 'timeout'): void {
    if (this.openedBy) return;
    this.openedBy = by;
    clearTimeout(this.timer);
    for (const release of this.held.splice(0)) release();
  }
}

/** Each account's world: the health and position above, and every vault net of the ledger's reservations on it. */
class VaultWorld implements WorldSource {
  /** Reads per account (lower case): one per planning attempt. */
  readonly reads = new Map<string, number>();
  gate: ReadGate | undefined;

  constructor(
    private readonly ledger: LedgerHandle['db'],
    private readonly vaults: readonly Vault[],
  ) {}

  get totalReads(): number {
    return [...this.reads.values()].reduce((sum, n) => sum + n, 0);
  }

  async worldFor(request: WorldRequest): Promise<AccountWorld> {
    const account = request.account.toLowerCase();
    this.reads.set(account, (this.reads.get(account) ?? 0) + 1);
    if (this.gate) await this.gate.pass();
    const reserved = await reservedOnSources(
      this.ledger,
      this.vaults.map((vault) => ({ sourceChainId: vault.chainId, source: 'vault' as const, observedBlock: OBSERVED_BLOCK })),
    );
    const sources: PolicySource[] = [];
    const observed = new Map<string, LegReservation>();
    this.vaults.forEach((vault, i) => {
      observed.set(sourceKey('liquidity', vault.chainId), { capacity: vault.reserve, observedBlock: OBSERVED_BLOCK });
      const net = vault.reserve - (reserved[i] ?? 0n);
      if (net > 0n) sources.push({ kind: 'liquidity', chainId: vault.chainId, key: vault.key, capacity: net, routes: [{ transport: 'layerzero', fixedCostUsd: vault.fixedCostUsd, latencySeconds: 10 }] });
    });
    return {
      health: HEALTH,
      positions: [position(request)],
      sources,
      homeGasUsd: 0.1,
      markets: new Map([[MARKET, { price: PRICE, size: SIZE }]]),
      observed,
    };
  }
}

let ledger: LedgerHandle;
let cleanupLedger: (() => Promise<void>) | undefined;
let connection: Redis;
const running: Orchestrator[] = [];

beforeAll(() => {
  connection = createRedis(REDIS_URL);
});

// A fresh database per test: each starts with nothing reserved anywhere.
beforeEach(async () => {
  const created = await createMigratedLedger();
  ledger = created.ledger;
  cleanupLedger = created.cleanup;
  await seedChains(ledger.db);
});

afterEach(async () => {
  for (const orchestrator of running.splice(0)) {
    await orchestrator.close();
    await Promise.all(Object.values(orchestrator.queues.byName).map((queue) => queue.obliterate({ force: true })));
  }
  await cleanupLedger?.();
  cleanupLedger = undefined;
});

afterAll(() => {
  connection?.disconnect();
});

function start(worldSource: WorldSource): Orchestrator {
  const orchestrator = startOrchestrator({
    connection,
    prefix: `t-${randomBytes(4).toString('hex')}`,
    ledger: ledger.db,
    worldSource,
    policy: POLICY,
    chainKeys: new Map([[ALPHA, 'alpha'], [BETA, 'beta'], [GAMMA, 'gamma']]),
    concurrency: { plans: 16, shortfalls: 16 },
    // Only the plan jobs of the reports decide here: the review of episodes at rest runs once at start.
    reviewEveryMs: 1_000_000_000,
  });
  running.push(orchestrator);
  return orchestrator;
}

/** Waits until the scheduled review's first run (at once when the orchestrator starts) has completed. */
async function reviewed(orchestrator: Orchestrator): Promise<void> {
  await orchestrator.scheduled;
  for (let i = 0; i < 400; i += 1) {
    if ((await orchestrator.queues.byName.plans.getJobs(['completed'])).some((job) => job.name === 'review')) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the review did not run');
}

/** Waits until each shortfall's plan job has completed; their return values, in order. */
async function planResults(orchestrator: Orchestrator, shortfallIds: readonly Hash[]): Promise<unknown[]> {
  const results = new Map<Hash, unknown>();
  for (let i = 0; i < 2_400 && results.size < shortfallIds.length; i += 1) {
    for (const id of shortfallIds) {
      if (results.has(id)) continue;
      const job = await orchestrator.queues.byName.plans.getJob(jobId('plan', id));
      if (!job) continue;
      if (await job.isFailed()) throw new Error(`plan job for ${id} failed: ${job.failedReason}`);
      // Read again once completed: the job fetched may predate its end (no return value yet).
      if (await job.isCompleted()) results.set(id, (await orchestrator.queues.byName.plans.getJob(jobId('plan', id)))?.returnvalue);
    }
    if (results.size < shortfallIds.length) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (results.size < shortfallIds.length) throw new Error(`${shortfallIds.length - results.size} plan jobs did not complete`);
  return shortfallIds.map((id) => results.get(id));
}

let episode = 0;
const report = () =>
  syntheticReport((episode += 1), { equity: HEALTH.equity.toString(), maintenance: HEALTH.maintenance.toString(), requiredAmount: REQUIRED.toString(), mEff: M_EFF });

/** Every leg in the ledger with the account and revision of its settlement. */
async function ledgerLegs() {
  return ledger.db
    .select({
      account: shortfalls.account,
      shortfallId: settlements.shortfallId,
      revision: settlements.revision,
      covered: settlements.coveredAmount,
      uncovered: settlements.uncoveredAmount,
      kind: legs.kind,
      sourceChainId: legs.sourceChainId,
      destinationChainId: legs.destinationChainId,
      amount: legs.amount,
      relief: legs.relief,
      positionSize: legs.positionSize,
      status: legs.status,
    })
    .from(legs)
    .innerJoin(settlements, sql`${settlements.id} = ${legs.settlementId}`)
    .innerJoin(shortfalls, sql`${shortfalls.id} = ${settlements.shortfallId}`);
}

/** What the audit view shows reserved on each chain's vault. */
async function vaultReservations(): Promise<Map<string, { legs: number; reserved: bigint; pending: bigint }>> {
  const result = await ledger.db.execute<{ source_chain: string; legs: number; reserved_amount: string; pending_amount: string }>(
    sql`select source_chain, legs, reserved_amount::text, pending_amount::text from report_reservations where source = 'vault'`,
  );
  return new Map(result.rows.map((row) => [row.source_chain, { legs: Number(row.legs), reserved: BigInt(row.reserved_amount), pending: BigInt(row.pending_amount) }]));
}

const reservedAt = async (chainId: number): Promise<bigint> =>
  (await reservedOnSources(ledger.db, [{ sourceChainId: chainId, source: 'vault', observedBlock: OBSERVED_BLOCK }]))[0] ?? -1n;

const countBy = <T>(items: readonly T[], key: (item: T) => string | number): Record<string, number> =>
  items.reduce<Record<string, number>>((counts, item) => ({ ...counts, [key(item)]: (counts[key(item)] ?? 0) + 1 }), {});

describe('shared inventory: concurrent plans never commit more of a vault than it holds', () => {
  it('40 shortfalls planned at once against a vault whose reserve covers 10: exactly 10 take it, 30 go to the dearer vault', async () => {
    const betaReserve = 10n * LEG_AMOUNT;
    const gammaReserve = 1_000n * LEG_AMOUNT;
    const world = new VaultWorld(ledger.db, [
      { chainId: BETA, key: 'beta', reserve: betaReserve, fixedCostUsd: 1 },
      { chainId: GAMMA, key: 'gamma', reserve: gammaReserve, fixedCostUsd: 4 },
    ]);
    const orchestrator = start(world);
    await reviewed(orchestrator);
    // The first 16 decisions (one per plan worker slot) all read beta's whole reserve: room for 10 of them.
    world.gate = new ReadGate(16, 30_000);

    const reports = Array.from({ length: 40 }, report);
    const ids = await Promise.all(reports.map((r) => orchestrator.reportShortfall(r)));
    expect(new Set(ids).size).toBe(40);
    const outcomes = await planResults(orchestrator, ids);

    // Sixteen plans did read the same net reserve, so at least six of them were refused by the
    // ledger and read the world again: more reads than plan jobs.
    expect(world.gate.openedBy).toBe('count');
    expect(world.totalReads).toBeGreaterThanOrEqual(40 + 6);
    // Every plan job ended in a recorded revision of one leg, nothing uncovered.
    for (const outcome of outcomes) expect(outcome).toMatchObject({ decision: 'plan', revision: 0, legs: 1, uncovered: '0' });

    const recorded = await ledgerLegs();
    expect(recorded).toHaveLength(40);
    expect(new Set(recorded.map((leg) => leg.shortfallId))).toEqual(new Set(ids));
    for (const leg of recorded) {
      expect(leg).toMatchObject({
        revision: 0,
        covered: REQUIRED,
        uncovered: 0n,
        kind: 'liquidity',
        destinationChainId: ALPHA,
        amount: LEG_AMOUNT,
        relief: REQUIRED,
        positionSize: LEG_SIZE,
        status: 'planned',
      });
    }
    // Exactly the number of takeovers beta's reserve allows, the rest on gamma.
    expect(countBy(recorded, (leg) => leg.sourceChainId)).toEqual({ [BETA]: 10, [GAMMA]: 30 });
    const onBeta = recorded.filter((leg) => leg.sourceChainId === BETA).reduce((sum, leg) => sum + leg.amount, 0n);
    expect(onBeta).toBeLessThanOrEqual(betaReserve);
    expect(onBeta).toBe(betaReserve);

    // The ledger's own accounts agree: what is reserved on beta is its reserve, no more.
    expect(await reservedAt(BETA)).toBe(betaReserve);
    expect(await reservedAt(GAMMA)).toBe(30n * LEG_AMOUNT);
    expect(await vaultReservations()).toEqual(
      new Map([
        ['beta', { legs: 10, reserved: betaReserve, pending: betaReserve }],
        ['gamma', { legs: 30, reserved: 30n * LEG_AMOUNT, pending: 30n * LEG_AMOUNT }],
      ]),
    );
    // No episode was left reported as uncovered.
    const details = await ledger.db.select({ detail: shortfalls.detail }).from(shortfalls);
    expect(details.filter((row) => (row.detail as Record<string, unknown> | null)?.lastDecision !== undefined)).toEqual([]);
  });

  it('40 shortfalls against two small vaults (10 and 5 takeovers): 15 planned, the other 25 reported uncovered, nothing over either reserve', async () => {
    const betaReserve = 10n * LEG_AMOUNT;
    const gammaReserve = 5n * LEG_AMOUNT;
    const world = new VaultWorld(ledger.db, [
      { chainId: BETA, key: 'beta', reserve: betaReserve, fixedCostUsd: 1 },
      { chainId: GAMMA, key: 'gamma', reserve: gammaReserve, fixedCostUsd: 4 },
    ]);
    const orchestrator = start(world);
    await reviewed(orchestrator);
    world.gate = new ReadGate(16, 30_000);

    const ids = await Promise.all(Array.from({ length: 40 }, report).map((r) => orchestrator.reportShortfall(r)));
    const outcomes = await planResults(orchestrator, ids);
    expect(world.gate.openedBy).toBe('count');

    const recorded = await ledgerLegs();
    expect(countBy(recorded, (leg) => leg.sourceChainId)).toEqual({ [BETA]: 10, [GAMMA]: 5 });
    for (const leg of recorded) expect(leg).toMatchObject({ kind: 'liquidity', amount: LEG_AMOUNT, relief: REQUIRED, uncovered: 0n });
    expect(new Set(recorded.map((leg) => leg.shortfallId)).size).toBe(15);
    expect(await reservedAt(BETA)).toBe(betaReserve);
    expect(await reservedAt(GAMMA)).toBe(gammaReserve);
    expect(await vaultReservations()).toEqual(
      new Map([
        ['beta', { legs: 10, reserved: betaReserve, pending: betaReserve }],
        ['gamma', { legs: 5, reserved: gammaReserve, pending: gammaReserve }],
      ]),
    );

    // Every other episode is reported uncovered, in its job's outcome and on the shortfall.
    const planned = new Set(recorded.map((leg) => leg.shortfallId));
    const unplanned = ids.filter((id) => !planned.has(id));
    expect(unplanned).toHaveLength(25);
    for (const [i, id] of ids.entries()) {
      if (planned.has(id)) expect(outcomes[i]).toMatchObject({ decision: 'plan', legs: 1, uncovered: '0' });
      else expect(outcomes[i]).toMatchObject({ decision: 'none', reason: 'no source can cover it', uncovered: REQUIRED.toString() });
    }
    const rows = await ledger.db.select({ id: shortfalls.id, detail: shortfalls.detail }).from(shortfalls);
    const lastDecisions = new Map(rows.map((row) => [row.id, (row.detail as { lastDecision?: { reason: string; uncovered: string } } | null)?.lastDecision]));
    for (const id of unplanned) expect(lastDecisions.get(id)).toMatchObject({ reason: 'no source can cover it', uncovered: REQUIRED.toString() });
    for (const id of planned) expect(lastDecisions.get(id)).toBeUndefined();
  });

  it("two accounts racing for a vault's last reserve: one gets it, the other is planned on the other vault", async () => {
    const betaReserve = 3n * LEG_AMOUNT;
    const world = new VaultWorld(ledger.db, [
      { chainId: BETA, key: 'beta', reserve: betaReserve, fixedCostUsd: 1 },
      { chainId: GAMMA, key: 'gamma', reserve: 1_000n * LEG_AMOUNT, fixedCostUsd: 4 },
    ]);
    const orchestrator = start(world);
    await reviewed(orchestrator);

    // Two earlier plans take two of beta's three takeovers.
    const earlier = await Promise.all([report(), report()].map((r) => orchestrator.reportShortfall(r)));
    await planResults(orchestrator, earlier);
    expect(countBy(await ledgerLegs(), (leg) => leg.sourceChainId)).toEqual({ [BETA]: 2 });
    expect(await reservedAt(BETA)).toBe(2n * LEG_AMOUNT);

    // The racers both read beta with one takeover left before either records its plan.
    world.gate = new ReadGate(2, 30_000);
    const racers = [report(), report()];
    const racerIds = await Promise.all(racers.map((r) => orchestrator.reportShortfall(r)));
    const outcomes = await planResults(orchestrator, racerIds);
    expect(world.gate.openedBy).toBe('count');
    for (const outcome of outcomes) expect(outcome).toMatchObject({ decision: 'plan', revision: 0, legs: 1, uncovered: '0' });

    const byAccount = new Map((await ledgerLegs()).map((leg) => [leg.account.toLowerCase(), leg]));
    const racerAccounts = racers.map((r) => r.account.toLowerCase());
    const racerLegs = racerAccounts.map((account) => byAccount.get(account));
    expect(racerLegs.map((leg) => leg?.sourceChainId).sort()).toEqual([BETA, GAMMA].sort());
    for (const leg of racerLegs) expect(leg).toMatchObject({ kind: 'liquidity', amount: LEG_AMOUNT, relief: REQUIRED, positionSize: LEG_SIZE, status: 'planned' });
    // The loser's first plan (beta, like the winner's) was refused by the ledger and planned again:
    // one read for the winner, two for the loser.
    const readsOf = (account: string) => world.reads.get(account) ?? 0;
    const winner = racerAccounts.find((account) => byAccount.get(account)?.sourceChainId === BETA) as Address;
    const loser = racerAccounts.find((account) => byAccount.get(account)?.sourceChainId === GAMMA) as Address;
    expect([readsOf(winner), readsOf(loser)]).toEqual([1, 2]);

    // Beta's reserve is committed exactly, never past it.
    expect(await reservedAt(BETA)).toBe(betaReserve);
    expect(await reservedAt(GAMMA)).toBe(LEG_AMOUNT);
    expect(await vaultReservations()).toEqual(
      new Map([
        ['beta', { legs: 3, reserved: betaReserve, pending: betaReserve }],
        ['gamma', { legs: 1, reserved: LEG_AMOUNT, pending: LEG_AMOUNT }],
      ]),
    );
  });
});
