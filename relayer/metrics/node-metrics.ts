import type { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LedgerDatabase } from '../../db/index.js';
import { onRpcFailure } from '../../chains/rpc-errors.js';

/** Every metric the node exports (README lists them); counters are incremented where things happen. */
export interface NodeMetrics {
  readonly registry: Registry;
  readonly deliveryLatency: Histogram<'transport'>;
  readonly plannerCost: Histogram;
  readonly plannerUncovered: Counter;
  readonly rpcErrors: Counter<'chain'>;
  readonly workerErrors: Counter<'queue'>;
  /** Stops listening for RPC failures. */
  close(): void;
}

/** What the metrics read from the watchers when scraped. */
export interface WatcherLag {
  readonly chain: string;
  readonly lag: bigint | undefined;
}

/**
 * The node's Prometheus registry. Ledger-derived gauges (settlements by status, legs by
 * status and transport) and queue depths are read when scraped, so they are never stale.
 */
export function createNodeMetrics(params: {
  ledger: LedgerDatabase;
  queues?: readonly Queue[];
  watchers?: () => readonly WatcherLag[];
  /** Chain keys by id, to label RPC failures. */
  chainKeys?: ReadonlyMap<number, string>;
  defaults?: boolean;
}): NodeMetrics {
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
    name: 'relayer_shortfalls',
    help: 'Shortfall episodes detected, per chain and status (open, closed)',
    labelNames: ['chain', 'status'],
    registers: [registry],
    async collect() {
      const rows = await ledger.execute<{ chain: string; status: string; count: string }>(
        sql`select c.key as chain, s.status::text as status, count(*)::text as count from shortfalls s join chains c on c.chain_id = s.chain_id group by 1, 2`,
      );
      this.reset();
      for (const row of rows.rows) this.set({ chain: row.chain, status: row.status }, Number(row.count));
    },
  });
  if (params.watchers) {
    const watchers = params.watchers;
    new Gauge({
      name: 'relayer_watcher_head_lag_blocks',
      help: 'Blocks between the chain head and the watcher checkpoint (on the node that leads the chain)',
      labelNames: ['chain'],
      registers: [registry],
      collect() {
        this.reset();
        for (const watcher of watchers()) if (watcher.lag !== undefined) this.set({ chain: watcher.chain }, Number(watcher.lag));
      },
    });
  }
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
  const rpcErrors = new Counter({ name: 'relayer_rpc_errors_total', help: 'RPC calls that failed (network error, non-2xx, or a JSON-RPC error other than a revert), per chain', labelNames: ['chain'], registers: [registry] });
  const unsubscribe = onRpcFailure((chainId) => rpcErrors.inc({ chain: params.chainKeys?.get(chainId) ?? String(chainId) }));
  return {
    registry,
    rpcErrors,
    close: unsubscribe,
    deliveryLatency: new Histogram({
      name: 'relayer_delivery_latency_seconds',
      help: 'Seconds from a leg being sent to it being credited, per transport',
      labelNames: ['transport'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 900, 1800],
      registers: [registry],
    }),
    plannerCost: new Histogram({ name: 'relayer_planner_cost_usd', help: 'Planned cost of each settlement, USD', buckets: [0.1, 0.5, 1, 5, 10, 50, 100, 500], registers: [registry] }),
    plannerUncovered: new Counter({ name: 'relayer_planner_uncovered_usd_total', help: 'Shortfall no option could cover, USD', registers: [registry] }),
    workerErrors: new Counter({ name: 'relayer_queue_worker_errors_total', help: 'Errors a queue worker raised outside a job (Redis unreachable, a lock lost), per queue', labelNames: ['queue'], registers: [registry] }),
  };
}
