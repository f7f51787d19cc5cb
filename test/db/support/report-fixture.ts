/**
 * A small ledger whose report numbers are worked out by hand in test/db/reports.test.ts.
 * Amounts in collateral base units (6 decimals: 600_000_000n is 600 USD); fees in wei.
 *
 *   S1 alpha, account 1, requires 1000 USD, closed without bad debt
 *     T1: L0 collateral beta->alpha layerzero 600   credited (sent->delivered 20 s, submitted->credited 40 s)
 *         L1 liquidity  gamma->alpha wormhole  400   credited (60 s, 70 s)
 *   S2 alpha, account 2, requires 500 USD, closed with 120 USD bad debt
 *     T2: L0 collateral beta->alpha layerzero 300   failed at verified, refunded on day 2
 *         L1 liquidity  gamma->alpha wormhole  100   failed at submitted (reverted)
 *     T4 (revision 1): L0 liquidity gamma->alpha wormhole 100   sent on day 2, failed: burned, not refunded
 *   S3 beta, account 3, requires 1000 USD, open
 *     T3: L0 collateral alpha->beta layerzero 500   delivered (70 s)
 *         L1 local      beta                  300   planned
 *         L2 liquidity  alpha->beta layerzero 200   delivered (40 s)
 *   Relief: a collateral or local leg relieves its amount, a liquidity leg 1.5 times it.
 *   Reconciliation: T1L0 confirmed; an open finding on T1L1; a resolved one on T2L0.
 */
import type { Hash } from 'viem';
import type { LedgerDatabase } from '../../../db/client.js';
import {
  closeShortfall,
  finishReconciliationRun,
  markLegsReconciled,
  recordFinding,
  recordSettlement,
  recordShortfall,
  resolveFinding,
  startReconciliationRun,
  type PlannedLeg,
} from '../../../db/ledger/index.js';
import type { MessageRef } from '../../../db/message-id.js';
import { ALPHA, BETA, ENGINE, GAMMA, accountOf, hashOf, seedChains, walk } from './fixtures.js';

export const DAY1 = '2025-03-01';
export const DAY2 = '2025-03-02';
const M = 1_000_000n; // one USD in base units

export function at(time: string, day = DAY1): Date {
  return new Date(`${day}T${time}Z`);
}

function lz(label: string): MessageRef {
  return { transport: 'layerzero', guid: hashOf(label) };
}

function wh(sequence: bigint): MessageRef {
  return { transport: 'wormhole', emitterChain: 5, emitter: `0x${'00'.repeat(12)}${'0e'.repeat(20)}`, sequence };
}

function leg(kind: PlannedLeg['kind'], from: number, to: number, amount: bigint, account: number): PlannedLeg {
  const transport = kind === 'local' ? null : from === GAMMA ? 'wormhole' : 'layerzero';
  const relief = kind === 'liquidity' ? (amount * 3n) / 2n : amount;
  return { kind, sourceChainId: from, destinationChainId: to, transport, account: accountOf(account), amount, relief };
}

async function shortfall(db: LedgerDatabase, params: { chainId: number; account: number; episode: bigint; required: bigint }) {
  const { shortfall: row } = await recordShortfall(db, {
    chainId: params.chainId,
    engine: ENGINE,
    account: accountOf(params.account),
    episode: params.episode,
    reason: 'breach',
    equity: 50n * M,
    maintenance: 140n * M,
    requiredAmount: params.required,
    detectedBlock: 100n,
    detectedAt: at('09:00:00'),
  });
  return row.id;
}

async function plan(db: LedgerDatabase, params: { shortfallId: Hash; revision?: number; required: bigint; covered: bigint; legs: PlannedLeg[] }) {
  const { legIds } = await recordSettlement(db, {
    shortfallId: params.shortfallId,
    revision: params.revision ?? 0,
    requiredAmount: params.required,
    coveredAmount: params.covered,
    plannedCostUsd: '2.5',
    plan: { legs: params.legs.length },
    legs: params.legs,
    plannedAt: at('09:30:00'),
  });
  return legIds;
}

export async function buildReportLedger(db: LedgerDatabase) {
  await seedChains(db);
  const tx = (label: string) => hashOf(`tx ${label}`);

  const s1 = await shortfall(db, { chainId: ALPHA, account: 1, episode: 1n, required: 1000n * M });
  const [t1l0, t1l1] = (await plan(db, {
    shortfallId: s1,
    required: 1000n * M,
    covered: 1000n * M,
    legs: [leg('collateral', BETA, ALPHA, 600n * M, 1), leg('liquidity', GAMMA, ALPHA, 400n * M, 1)],
  })) as [Hash, Hash];
  await walk(db, {
    legId: t1l0,
    from: 'planned',
    steps: [
      { to: 'submitted', evidence: { txHash: tx('t1l0 submit'), occurredAt: at('10:00:00') } },
      { to: 'sent', evidence: { txHash: tx('t1l0 submit'), blockNumber: 11n, fee: 1000n, feeUsd: '0.50', amount: 600n * M, message: lz('t1l0'), occurredAt: at('10:00:10') } },
      { to: 'verified', evidence: { occurredAt: at('10:00:20') } },
      { to: 'delivered', evidence: { txHash: tx('t1l0 deliver'), blockNumber: 21n, fee: 300n, feeUsd: '0.25', amount: 600n * M, occurredAt: at('10:00:30') } },
      { to: 'credited', evidence: { occurredAt: at('10:00:40') } },
    ],
  });
  await walk(db, {
    legId: t1l1,
    from: 'planned',
    steps: [
      { to: 'submitted', evidence: { occurredAt: at('11:00:00') } },
      { to: 'sent', evidence: { txHash: tx('t1l1 send'), fee: 2000n, feeUsd: '1.00', message: wh(1n), occurredAt: at('11:00:05') } },
      { to: 'verified', evidence: { occurredAt: at('11:00:35') } },
      { to: 'delivered', evidence: { txHash: tx('t1l1 deliver'), fee: 500n, feeUsd: '0.40', occurredAt: at('11:01:05') } },
      { to: 'credited', evidence: { occurredAt: at('11:01:10') } },
    ],
  });
  await closeShortfall(db, { shortfallId: s1, closedAt: at('11:02:00'), badDebt: 0n });

  const s2 = await shortfall(db, { chainId: ALPHA, account: 2, episode: 1n, required: 500n * M });
  const [t2l0, t2l1] = (await plan(db, {
    shortfallId: s2,
    required: 500n * M,
    covered: 400n * M,
    legs: [leg('collateral', BETA, ALPHA, 300n * M, 2), leg('liquidity', GAMMA, ALPHA, 100n * M, 2)],
  })) as [Hash, Hash];
  await walk(db, {
    legId: t2l0,
    from: 'planned',
    steps: [
      { to: 'submitted', evidence: { occurredAt: at('11:59:50') } },
      { to: 'sent', evidence: { txHash: tx('t2l0 send'), fee: 1000n, feeUsd: '0.50', message: lz('t2l0'), occurredAt: at('12:00:00') } },
      { to: 'verified', evidence: { occurredAt: at('12:00:30') } },
      { to: 'failed', error: 'deadline expired before delivery', evidence: { occurredAt: at('23:00:00') } },
      { to: 'refunded', evidence: { txHash: tx('t2l0 refund'), fee: 800n, feeUsd: '0.40', amount: 300n * M, occurredAt: at('00:30:00', DAY2) } },
    ],
  });
  await walk(db, {
    legId: t2l1,
    from: 'planned',
    steps: [
      { to: 'submitted', evidence: { txHash: tx('t2l1 send'), occurredAt: at('12:05:00') } },
      { to: 'failed', error: 'sendLiquidity reverted', evidence: { chainId: GAMMA, txHash: tx('t2l1 send'), fee: 700n, feeUsd: '0.30', occurredAt: at('12:05:30') } },
    ],
  });
  const [t4l0] = (await plan(db, {
    shortfallId: s2,
    revision: 1,
    required: 100n * M,
    covered: 100n * M,
    legs: [leg('liquidity', GAMMA, ALPHA, 100n * M, 2)],
  })) as [Hash];
  await walk(db, {
    legId: t4l0,
    from: 'planned',
    steps: [
      { to: 'submitted', evidence: { occurredAt: at('00:59:00', DAY2) } },
      { to: 'sent', evidence: { txHash: tx('t4l0 send'), fee: 600n, feeUsd: '0.20', message: wh(2n), occurredAt: at('01:00:00', DAY2) } },
      { to: 'failed', error: 'VAA never signed', evidence: { occurredAt: at('03:00:00', DAY2) } },
    ],
  });
  await closeShortfall(db, { shortfallId: s2, closedAt: at('04:00:00', DAY2), badDebt: 120n * M });

  const s3 = await shortfall(db, { chainId: BETA, account: 3, episode: 1n, required: 1000n * M });
  const [t3l0, t3l1, t3l2] = (await plan(db, {
    shortfallId: s3,
    required: 1000n * M,
    covered: 1000n * M,
    legs: [leg('collateral', ALPHA, BETA, 500n * M, 3), leg('local', BETA, BETA, 300n * M, 3), leg('liquidity', ALPHA, BETA, 200n * M, 3)],
  })) as [Hash, Hash, Hash];
  const delivered = (label: string, times: [string, string, string, string]) => [
    { to: 'submitted' as const, evidence: { occurredAt: at(times[0]) } },
    { to: 'sent' as const, evidence: { txHash: tx(`${label} send`), fee: 1500n, feeUsd: '0.75', message: lz(label), occurredAt: at(times[1]) } },
    { to: 'verified' as const, evidence: { occurredAt: at(times[2]) } },
    { to: 'delivered' as const, evidence: { txHash: tx(`${label} deliver`), fee: 400n, feeUsd: '0.20', occurredAt: at(times[3]) } },
  ];
  await walk(db, { legId: t3l0, from: 'planned', steps: delivered('t3l0', ['12:59:00', '13:00:00', '13:00:30', '13:01:10']) });
  await walk(db, { legId: t3l2, from: 'planned', steps: delivered('t3l2', ['13:59:00', '14:00:00', '14:00:20', '14:00:40']) });

  const runId = await startReconciliationRun(db, { node: 'node-1' });
  await markLegsReconciled(db, { runId, legIds: [t1l0] });
  await recordFinding(db, { runId, kind: 'amount_mismatch', severity: 'critical', chainId: ALPHA, legId: t1l1, expected: 400n * M, actual: 399n * M });
  const resolved = await recordFinding(db, { runId, kind: 'stuck_leg', severity: 'warning', legId: t2l0 });
  await resolveFinding(db, { findingId: resolved, resolution: 'refunded by hand' });
  await finishReconciliationRun(db, { runId, status: 'failed' });

  return { s1, s2, s3, t1l0, t1l1, t2l0, t2l1, t3l0, t3l1, t3l2, t4l0 };
}
