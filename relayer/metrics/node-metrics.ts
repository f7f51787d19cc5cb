import type { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LedgerDatabase } from '../../db/index.js';

/** Every metric the node exports (README lists them); counters are incremented where things happen. */
export interface NodeMetrics {
  readonly registry: Registry;
  readonly shortfallsDetected: Counter<'chain'>;
  readonly deliveryLatency: Histogram<'transport'>;
  readonly plannerCost: Histogram;
  readonly plannerUncovered: Counter;
  readonly watcherHeadLag: Gauge<'chain'>;
  readonly rpcErrors: Counter<'chain'>;
}

/**
 * The node's Prometheus registry. Ledger-derived gauges (settlements by status, legs by
 * status and transport) and queue depths are read when scraped, so they are never stale.
 */
export function createNodeMetrics(params: { ledger: LedgerDatabase; queues?: readonly Queue[]; defaults?: boolean }): NodeMetrics {
  const registry = new Registry();
  if (params.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'relayer_process_' });
  const { ledger } = params;

  new Gauge({
    name: 'relayer_settlements',
    help: 'Settlements by derived status (settled, in-flight, failed, ...)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows = await ledger.execute<{ status: string; count: string }>(sql`select status, count(*)::text as count from report_settlement_status group by status`);
      this.reset();
      for (const row of rows.rows) this.set({ status: row.status }, Number(row.count));
    },
  });
  new Gauge({
    name: 'relayer_legs',
    help: 'Legs by status and transport',
    labelNames: ['status', 'transport'],
    registers: [registry],
    async collect() {
      const rows = await ledger.execute<{ status: string; transport: string | null; count: string }>(sql`select status, transport, count(*)::text as count from legs group by status, transport`);
      this.reset();
      for (const row of rows.rows) this.set({ status: row.status, transport: row.transport ?? 'local' }, Number(row.count));
    },
  });
  if (params.queues) {
    const queues = params.queues;
    new Gauge({
      name: 'relayer_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const queue of queues) {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'waiting-children');
          for (const [state, count] of Object.entries(counts)) this.set({ queue: queue.name, state }, count);
        }
      },
    });
  }
  return {
    registry,
    shortfallsDetected: new Counter({ name: 'relayer_shortfalls_detected_total', help: 'Shortfall episodes reported, per chain', labelNames: ['chain'], registers: [registry] }),
    deliveryLatency: new Histogram({
      name: 'relayer_delivery_latency_seconds',
      help: 'Seconds from a leg being sent to it being credited, per transport',
      labelNames: ['transport'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 900, 1800],
      registers: [registry],
    }),
    plannerCost: new Histogram({ name: 'relayer_planner_cost_usd', help: 'Planned cost of each settlement, USD', buckets: [0.1, 0.5, 1, 5, 10, 50, 100, 500], registers: [registry] }),
    plannerUncovered: new Counter({ name: 'relayer_planner_uncovered_usd_total', help: 'Shortfall no option could cover, USD', registers: [registry] }),
    watcherHeadLag: new Gauge({ name: 'relayer_watcher_head_lag_blocks', help: 'Blocks between the chain head and the watcher checkpoint', labelNames: ['chain'], registers: [registry] }),
    rpcErrors: new Counter({ name: 'relayer_rpc_errors_total', help: 'RPC calls that failed, per chain', labelNames: ['chain'], registers: [registry] }),
  };
}
