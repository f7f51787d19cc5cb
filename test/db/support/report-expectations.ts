/**
 * The seven reports on the fixture ledger (support/report-fixture.ts), worked out by hand.
 * Shared by the PostgreSQL and the PGlite suites: both must give exactly these numbers.
 */
import { expect } from 'vitest';
import type { LedgerDatabase } from '../../../db/client.js';
import { readReport, type ReportValue } from '../../../db/reports/read-report.js';
import { accountOf } from './fixtures.js';
import type { buildReportLedger } from './report-fixture.js';

type Ids = Awaited<ReturnType<typeof buildReportLedger>>;
type Row = Readonly<Record<string, ReportValue>>;

function byKey(rows: readonly Row[], key: string): Map<ReportValue, Row> {
  return new Map(rows.map((row) => [row[key] ?? null, row]));
}

export async function expectHandWorkedReports(db: LedgerDatabase, ids: Ids): Promise<void> {
  const settlements = await readReport(db, 'settlement-status');
  expect(settlements.rows).toHaveLength(4);
  const bySettlement = new Map(settlements.rows.map((row) => [row.shortfall_id === ids.s2 ? `${row.shortfall_id}/${row.revision}` : row.shortfall_id, row]));
  // S1/T1: both legs credited, 600 + 400 = 1000 USD.
  expect(bySettlement.get(ids.s1)).toMatchObject({
    chain: 'alpha', revision: 0, legs: 2, legs_pending: 0, legs_in_flight: 0, legs_credited: 2, legs_failed: 0, legs_refunded: 0,
    required_amount: '1000000000', covered_amount: '1000000000', uncovered_amount: '0', credited_amount: '1000000000',
    status: 'settled', last_event_at: '2025-03-01T11:01:10.000Z',
  });
  // S2/T2: one leg refunded, one failed, nothing credited; 100 USD left uncovered by the plan.
  expect(bySettlement.get(`${ids.s2}/0`)).toMatchObject({
    legs: 2, legs_credited: 0, legs_failed: 1, legs_refunded: 1, credited_amount: '0', covered_amount: '400000000',
    uncovered_amount: '100000000', status: 'failed', last_event_at: '2025-03-02T00:30:00.000Z',
  });
  expect(bySettlement.get(`${ids.s2}/1`)).toMatchObject({ legs: 1, legs_failed: 1, status: 'failed' });
  // S3/T3: one local leg still planned, two delivered but not credited.
  expect(bySettlement.get(ids.s3)).toMatchObject({
    chain: 'beta', legs: 3, legs_pending: 1, legs_in_flight: 2, legs_credited: 0, credited_amount: '0', status: 'in_progress',
    last_event_at: '2025-03-01T14:00:40.000Z',
  });

  // Unreconciled: T1L0 was confirmed and T3L1 moved nothing; the rest, each for its reason.
  const unreconciled = byKey((await readReport(db, 'unreconciled-legs')).rows, 'leg_id');
  expect(new Map([...unreconciled].map(([leg, row]) => [leg, row.reason]))).toEqual(
    new Map([
      [ids.t1l1, 'open_finding'],
      [ids.t2l0, 'awaiting_reconciliation'],
      [ids.t2l1, 'awaiting_reconciliation'],
      [ids.t3l0, 'in_flight'],
      [ids.t3l2, 'in_flight'],
      [ids.t4l0, 'burned_not_refunded'],
    ]),
  );
  expect(unreconciled.get(ids.t1l1)).toMatchObject({ open_findings: 1, status: 'credited' });
  expect(unreconciled.get(ids.t2l0)).toMatchObject({ open_findings: 0, status: 'refunded', failed_from: 'verified' });
  expect(unreconciled.get(ids.t4l0)).toMatchObject({ status: 'failed', failed_from: 'sent', amount: '100000000', status_since: '2025-03-02T03:00:00.000Z' });

  // Flows: out = burned on send (source), in = minted on delivery (destination), refunds back to the source.
  const flows = (await readReport(db, 'flows')).rows;
  expect(flows.map((r) => [r.day, r.chain, r.legs_out, r.amount_out, r.legs_in, r.amount_in, r.amount_refunded, r.net_amount])).toEqual([
    // alpha sends T3L0 500 + T3L2 200; receives T1L0 600 + T1L1 400.
    ['2025-03-01', 'alpha', 2, '700000000', 2, '1000000000', '0', '300000000'],
    // beta sends T1L0 600 + T2L0 300; receives T3L0 500 + T3L2 200.
    ['2025-03-01', 'beta', 2, '900000000', 2, '700000000', '0', '-200000000'],
    // gamma sends T1L1 400 (T2L1 reverted before sending).
    ['2025-03-01', 'gamma', 1, '400000000', 0, '0', '0', '-400000000'],
    // T2L0's 300 comes back to beta on day 2.
    ['2025-03-02', 'beta', 0, '0', 0, '0', '300000000', '300000000'],
    // T4L0 burns 100 on gamma on day 2, never minted nor refunded.
    ['2025-03-02', 'gamma', 1, '100000000', 0, '0', '0', '-100000000'],
  ]);
  // Conservation: what all chains net is minus what is burned and nowhere yet (T4L0's 100).
  expect(flows.reduce((sum, r) => sum + BigInt(String(r.net_amount)), 0n)).toBe(-100_000_000n);

  // Route costs, fees summed from the events: source-chain fees, destination fees, USD.
  const routes = (await readReport(db, 'route-costs')).rows;
  expect(routes.map((r) => [r.source_chain, r.transport, r.legs, r.legs_delivered, r.legs_failed, r.amount_delivered, r.source_fees, r.destination_fees, r.fee_usd, r.fee_usd_per_leg, r.cost_bps])).toEqual([
    // T3L0, T3L2: 1500 + 1500 on alpha, 400 + 400 on beta; 0.95 USD each; 1.90 / 700 USD = 27.1429 bps.
    ['alpha', 'layerzero', 2, 2, 0, '700000000', '3000', '800', '1.900000', '0.950000', '27.1429'],
    // T1L0 (1000 + 300), T2L0 (1000 + 800 refund, on beta): 0.50 + 0.25 + 0.50 + 0.40 = 1.65; 1.65 / 600 USD = 27.5 bps.
    ['beta', 'layerzero', 2, 1, 1, '600000000', '2800', '300', '1.650000', '0.825000', '27.5000'],
    // T1L1 (2000 + 500), T2L1 (700), T4L0 (600): 1.00 + 0.40 + 0.30 + 0.20 = 1.90; / 3 legs; 1.90 / 400 USD = 47.5 bps.
    ['gamma', 'wormhole', 3, 1, 2, '400000000', '3300', '500', '1.900000', '0.633333', '47.5000'],
  ]);

  // Latency sent -> delivered. LayerZero: 20 s (T1L0), 70 s (T3L0), 40 s (T3L2); sorted 20, 40, 70:
  // p50 = 40; p90 at rank 0.9 * 2 = 1.8: 40 + 0.8 * 30 = 64; p99 at 1.98: 40 + 0.98 * 30 = 69.4.
  // End to end (submitted -> credited) only T1L0 has: 40 s. Wormhole: T1L1 alone, 60 s and 70 s.
  const latency = byKey((await readReport(db, 'transport-latency')).rows, 'transport');
  const layerzero = latency.get('layerzero');
  expect(layerzero).toMatchObject({ legs: 3, p50_seconds: 40, max_seconds: 70, p50_end_to_end_seconds: 40 });
  expect(Number(layerzero?.p90_seconds)).toBeCloseTo(64, 9);
  expect(Number(layerzero?.p99_seconds)).toBeCloseTo(69.4, 9);
  expect(latency.get('wormhole')).toEqual({
    transport: 'wormhole', legs: 1, p50_seconds: 60, p90_seconds: 60, p99_seconds: 60, max_seconds: 60, p50_end_to_end_seconds: 70,
  });

  // Bad debt. alpha: S1 required 1000, credited 1000; S2 required 500, credited 0, closed: 500 uncovered, 120 bad debt.
  // beta: S3 required 1000, nothing credited yet, still open: not counted as uncovered.
  expect((await readReport(db, 'bad-debt')).rows).toEqual([
    { chain: 'alpha', shortfalls: 2, open_shortfalls: 0, required_amount: '1500000000', covered_amount: '1000000000', closed_uncovered_amount: '500000000', bad_debt: '120000000', accounts_with_bad_debt: 1, bad_debt_usd: '120.000000' },
    { chain: 'beta', shortfalls: 1, open_shortfalls: 1, required_amount: '1000000000', covered_amount: '0', closed_uncovered_amount: '0', bad_debt: '0', accounts_with_bad_debt: 0, bad_debt_usd: '0.000000' },
  ]);

  // Reservations: only legs that have not ended hold one. T3L0 (alpha surplus of account 3, 500)
  // and T3L2 (alpha vault, 200) are delivered, so burned but still reserved; T3L1 is local; the
  // rest are credited, failed or refunded.
  expect((await readReport(db, 'reservations')).rows).toEqual([
    { source_chain: 'alpha', source: 'surplus', account: accountOf(3), legs: 1, reserved_amount: '500000000', pending_amount: '0', burned_amount: '500000000', reserved_usd: '500.000000', oldest_planned_at: '2025-03-01T09:30:00.000Z' },
    { source_chain: 'alpha', source: 'vault', account: null, legs: 1, reserved_amount: '200000000', pending_amount: '0', burned_amount: '200000000', reserved_usd: '200.000000', oldest_planned_at: '2025-03-01T09:30:00.000Z' },
  ]);
}
