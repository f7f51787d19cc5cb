/**
 * The reports `relayer report` can print: each is a view created by a migration (0002, and
 * 0006 for `reservations`, 0012 for `backstop-inventory`), so an auditor gets the same numbers from psql, with the order its
 * rows are listed in.
 */
export interface ReportDefinition {
  /** The view in the database. */
  readonly view: string;
  readonly description: string;
  /** ORDER BY for listing (a view has no order of its own). */
  readonly orderBy: string;
}

export const REPORTS = {
  'settlement-status': {
    view: 'report_settlement_status',
    description: 'each settlement: legs by stage, amount credited, derived status',
    orderBy: 'created_at desc, settlement_id',
  },
  'unreconciled-legs': {
    view: 'report_unreconciled_legs',
    description: 'legs in flight, burned but not refunded, with open findings, or not yet reconciled',
    // Most serious first, the order of the view's CASE.
    orderBy:
      "case reason when 'open_finding' then 1 when 'burned_not_refunded' then 2 when 'in_flight' then 3 else 4 end, status_since, leg_id",
  },
  'flows': {
    view: 'report_flows_daily',
    description: 'value out (burned), in (minted) and refunded per chain per UTC day',
    orderBy: 'day, chain',
  },
  'route-costs': {
    view: 'report_route_costs',
    description: 'fees per route (source chain x transport): native on each side, USD, per leg, bps',
    orderBy: 'source_chain, transport',
  },
  'transport-latency': {
    view: 'report_transport_latency',
    description: 'seconds from send to delivery per transport: p50, p90, p99, max; p50 end to end',
    orderBy: 'transport',
  },
  'bad-debt': {
    view: 'report_bad_debt',
    description: 'per chain: shortfalls, amounts required, covered and left uncovered, bad debt',
    orderBy: 'chain',
  },
  'reservations': {
    view: 'report_reservations',
    description: 'per source (a vault, an account surplus, per chain): amount reserved by legs not yet ended, how many',
    orderBy: 'source_chain, source, account nulls first',
  },
  'backstop-inventory': {
    view: 'report_backstop_inventory',
    description: "per chain and market: the backstop's position at its latest mark, its unwinds, realised and unrealised PnL",
    orderBy: 'chain, market_id',
  },
} as const satisfies Record<string, ReportDefinition>;

export type ReportName = keyof typeof REPORTS;

export const REPORT_NAMES = Object.keys(REPORTS) as ReportName[];

export function isReportName(name: string): name is ReportName {
  return Object.hasOwn(REPORTS, name);
}
