/**
 * The watcher's EWMA sigma travels with its assessment to the decision core: the risk module's
 * sigma per market in the shortfall report, the ledger's `latest_sigmas` (from the report, then
 * moved by later assessments), the episode's assessment, and the snapshot's `sigma` of the
 * position; a market the watcher did not assess is priced at the prior. Before, the node
 * back-derived sigma from m_eff (max(prior, m_eff / (z sqrt(T_act)))): that value is not this one.
 * Also: the report's m_eff is the risk module's WAD fraction converted once (`rateFraction`).
 */
import type { Address, Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerDatabase } from '../../db/client.js';
import { episodeStates, recordAssessments, recordShortfall } from '../../db/ledger/index.js';
import type { AccountWorld, WorldRequest } from '../../relayer/orchestrator/chain-world.js';
import { defaultPolicySettings } from '../../relayer/orchestrator/fixed-world.js';
import { revisionPlanner } from '../../relayer/orchestrator/revision-planner.js';
import { shortfallRecord, shortfallReportSchema } from '../../relayer/orchestrator/shortfall-report.js';
import type { PolicySnapshot } from '../../relayer/policy/index.js';
import { RATE_SCALE, WAD, type AccountHealth } from '../../relayer/risk/index.js';
import { shortfallOf } from '../../relayer/watcher/shortfall-of.js';
import { ALPHA, ENGINE, accountOf, seedChains } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';

const ETH: Hash = `0x${'e7'.repeat(32)}`;
const BTC: Hash = `0x${'b7'.repeat(32)}`;
/** The watcher's sigma of ETH (per square root of a second): neither the prior nor what m_eff would give back. */
const WATCHER_SIGMA = 0.000731;
/** m_eff of ETH as WAD: z sigma sqrt(T) rounded up, a value `Number(x) / 1e18` rounds twice (…568 for …567). */
const M_EFF = 12_345_678_901_234_567n;

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

function healthOf(account: Address): AccountHealth {
  const targetRate = M_EFF * (WAD + WAD / 5n);
  return {
    account,
    atRisk: true,
    reasons: [{ kind: 'below-warn' }],
    valuation: {
      equity: 900_000_000n,
      maintenance: 1_000_000_000n,
      effectiveMaintenance: 1_000_000_000n,
      warnLevel: 1_050_000_000n,
      targetLevel: 1_200_000_000n,
      shortfall: 100_000_000n,
      requiredAmount: 300_000_000n,
      breachProbability: undefined,
      effectiveFractions: [{ market: ETH, fraction: M_EFF, targetRate, sigma: WATCHER_SIGMA }],
    },
  };
}

/** The world the node would read: one ETH and one BTC position (BTC unassessed), recording what it was asked. */
function worldOf(requests: WorldRequest[]) {
  return {
    worldFor: async (request: WorldRequest): Promise<AccountWorld> => {
      requests.push(request);
      const position = (marketId: Hash) => ({
        marketId,
        notional: 10_000_000_000n,
        long: true,
        maintenanceFraction: 0.05,
        initialFraction: 0.1,
        liquidationBufferFraction: 0,
        targetFraction: request.targetFraction(marketId, 0.05),
        penalty: 0.02,
        oraclePrice: 2_000,
        sigma: request.sigma(marketId, 0.05),
        backstopNotional: 0n,
        pool: { quoteReserve: 1_000_000_000_000n, baseReserve: 500, fee: 0 },
      });
      return {
        health: { equity: 900_000_000n, maintenance: 1_000_000_000n, initial: 2_000_000_000n },
        positions: [position(ETH), position(BTC)],
        sources: [],
        homeGasUsd: 0,
        markets: new Map(),
        observed: new Map(),
      };
    },
  };
}

describe("the watcher's sigma in the node's snapshot", () => {
  it('goes from the risk module through the report and the ledger to the position the core sees', async () => {
    const account = accountOf(71);
    const { report } = shortfallOf({ chainId: ALPHA, engine: ENGINE, account, episode: 1n, health: healthOf(account), collateral: 0n, block: 40n, detectedAt: new Date('2026-12-01T10:00:00Z'), coveredBefore: 0n });
    expect(report.sigmas).toEqual({ [ETH]: WATCHER_SIGMA });
    // m_eff converted once: the double rounding gave 0.012345678901234568.
    expect(report.mEff).toBe(0.012345678901234567);
    expect(report.mEff).not.toBe(Number(M_EFF) / Number(WAD));
    expect(report.targetFractions?.[ETH]).toBe(Number(`0.${(M_EFF * (WAD + WAD / 5n)).toString().padStart(36, '0')}`));
    expect(RATE_SCALE).toBe(WAD * WAD);

    const { id } = (await recordShortfall(db, shortfallRecord(shortfallReportSchema.parse(report)))).shortfall;
    const state = (await episodeStates(db, [id])).get(id);
    if (!state) throw new Error('the episode is not in the ledger');
    expect(state.latestAssessment.sigmas).toEqual({ [ETH]: WATCHER_SIGMA });

    const requests: WorldRequest[] = [];
    let seen: PolicySnapshot | undefined;
    const planner = revisionPlanner({
      worldSource: worldOf(requests),
      policy: defaultPolicySettings,
      chainKeys: new Map([[ALPHA, 'alpha']]),
      recordPlans: async () => {
        throw new Error('the injected core decides nothing');
      },
      recordDecision: async () => {},
      decide: (snapshot) => {
        seen = snapshot;
        return { kind: 'none', reason: 'in flight covers it', need: 0n, uncovered: 0n };
      },
    });
    await planner.planNext({ shortfallId: id, state });
    const [eth, btc] = seen?.positions ?? [];
    expect(eth?.sigma).toBe(WATCHER_SIGMA);
    // What the old back-derivation gave: m_eff above m, so m_eff / (z sqrt(60)), or the prior.
    const backDerived = Math.max(defaultPolicySettings.sigmaPrior, 0.012345678901234567 / (defaultPolicySettings.z * Math.sqrt(60)));
    expect(eth?.sigma).not.toBe(backDerived);
    // BTC: not assessed by the watcher, so the prior.
    expect(btc?.sigma).toBe(defaultPolicySettings.sigmaPrior);
  });

  it('moves with a later assessment, and an assessment without sigmas leaves none', async () => {
    const account = accountOf(72);
    const { report } = shortfallOf({ chainId: ALPHA, engine: ENGINE, account, episode: 1n, health: healthOf(account), collateral: 0n, block: 40n, detectedAt: new Date('2026-12-01T10:00:00Z'), coveredBefore: 0n });
    const { id } = (await recordShortfall(db, shortfallRecord(shortfallReportSchema.parse(report)))).shortfall;
    const base = { shortfallId: id, requiredAmount: 1n, equity: 1n, maintenance: 1n, mEff: 0.05, targetFractions: { [ETH]: 0.06 }, at: new Date() };
    await recordAssessments(db, [{ ...base, sigmas: { [ETH]: 0.0009 }, block: 41n }]);
    expect((await episodeStates(db, [id])).get(id)?.latestAssessment.sigmas).toEqual({ [ETH]: 0.0009 });
    await recordAssessments(db, [{ ...base, block: 42n }]);
    expect((await episodeStates(db, [id])).get(id)?.latestAssessment.sigmas).toEqual({});
    await expect(recordAssessments(db, [{ ...base, sigmas: { [ETH]: -1 }, block: 43n }])).rejects.toThrow(`the sigma of market ${ETH} must be a finite non-negative number, got -1`);
  });
});
