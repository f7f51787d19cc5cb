import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { parseGwei } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { messageProbeAbi } from '../../chains/contracts/out/MessageProbe.js';
import { LayerZeroTransport } from '../../chains/messaging/layerzero/transport.js';
import { WormholeTransport } from '../../chains/messaging/wormhole/transport.js';
import { DevnetGuardianVaaSource, WormholescanVaaSource } from '../../chains/messaging/wormhole/vaa-source.js';
import { vaultCallAbi } from '../../chains/protocol/abi.js';
import { RedisNonceStore } from '../../chains/nonce-store.js';
import { Signer, shortReason } from '../../chains/signer.js';
import { migrateLedger, openLedger, registerChains, resolveDatabaseTarget, type LedgerHandle } from '../../db/index.js';
import { buildApi, type Readiness } from '../api/server.js';
import { createLogger, type Logger } from '../log/logger.js';
import { ChainLegExecutor } from '../execution/chain-leg-executor.js';
import type { ExecutionChain, ExecutionContext } from '../execution/execution-context.js';
import { createNodeMetrics, type NodeMetrics } from '../metrics/node-metrics.js';
import { ChainWorld } from '../orchestrator/chain-world.js';
import { unitsUp } from '../policy/index.js';
import { startOrchestrator, type Orchestrator } from '../orchestrator/orchestrator.js';
import { assertRedisAnswers, createRedis } from '../orchestrator/redis.js';
import { chainClock } from '../orchestrator/stuck-leg-sweeper.js';
import { legOperator } from '../orchestrator/leg-operator.js';
import { reconcile } from '../reconcile/reconcile.js';
import { unwindBackstops } from '../orchestrator/backstop-unwinder.js';
import { riskConfig, varianceFromAnnualVolatility } from '../risk/index.js';
import { RedisLease } from '../watcher/lease.js';
import { orchestratorSink } from '../watcher/shortfall-sink.js';
import { startChainWatcher, type ChainWatcher } from '../watcher/start-chain-watcher.js';
import type { Common } from './common.js';
import type { NodeConfig } from './config.js';
import { createShutdown } from './shutdown.js';

/** LayerZero confirmations the node's DVN attests (the ULN configs ask for as many). */
const DVN_CONFIRMATIONS = 1n;

export interface RunningNode {
  readonly config: NodeConfig;
  /** The config, logger, metrics and shutdown every part was given. */
  readonly common: Common;
  readonly ledger: LedgerHandle;
  readonly orchestrator: Orchestrator;
  readonly context: ExecutionContext;
  readonly metrics: NodeMetrics;
  /** One per chain; each follows its chain only while it holds the chain's lease. */
  readonly watchers: readonly ChainWatcher[];
  readonly api: FastifyInstance;
  /** Where the HTTP API listens, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Stops taking work, drains jobs in flight, closes every connection; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Builds and starts one node from its config, every part wired here explicitly: the ledger
 * (Postgres, or embedded PGlite), Redis, a signer per chain, both transports, leg execution,
 * the sourcing options read from the chains, the orchestrator's workers with the repeatable
 * reconciliation, metrics and the HTTP API. A dependency that does not answer stops the start
 * with one message naming it; whatever was opened is closed again.
 */
export async function startNode(config: NodeConfig, options: { logger?: Logger } = {}): Promise<RunningNode> {
  const logger = (options.logger ?? nodeLogger(config)).child({ node: config.node.id });
  await assertRedisAnswers(config.redis.url);
  const ledger = await openLedger({ target: resolveDatabaseTarget({ databaseUrl: config.secrets.databaseUrl, pgliteDir: config.secrets.pgliteDir }), applicationName: `relayer ${config.node.id}` });
  const shutdown = createShutdown(logger);
  shutdown.add('ledger', () => ledger.close());
  try {
    if (ledger.driver === 'postgres') await migrateLedger(ledger); // safe from several nodes at once
    await registerChains(
      ledger.db,
      config.chains.map((c) => ({ chainId: c.chainId, key: c.key, lzEid: c.lzEid, wormholeChainId: c.wormholeChainId, confirmations: c.confirmations })),
    );
    const relayer = privateKeyToAccount(config.secrets.relayerKey);
    // Nonces held in Redis, shared by every node with this key (chains/nonce-store.ts).
    const nonceRedis: Redis = createRedis(config.redis.url);
    shutdown.add('redis-nonces', () => nonceRedis.quit());
    const sender = { replaceAfterBlocks: config.sender.replaceAfterBlocks, feeBumpPercent: config.sender.feeBumpPercent, maxFeePerGas: parseGwei(String(config.sender.maxFeePerGasGwei)) };
    const signers = new Map(
      config.chains.map((c) => [
        c.key,
        new Signer({ chainId: c.chainId, rpcUrl: c.rpcUrls[0] ?? '', rpcUrls: c.rpcUrls, name: c.key }, relayer, {
          sender,
          nonces: new RedisNonceStore(nonceRedis, { prefix: config.redis.prefix, chainId: c.chainId, address: relayer.address }),
        }),
      ]),
    );
    const layerzero = new LayerZeroTransport({
      chains: config.chains.map((c) => ({
        ...c,
        rpcUrl: c.rpcUrls[0] ?? '',
        layerZero: { endpoint: c.contracts.lzEndpoint, endpointView: c.contracts.lzEndpointView, receiveUln: c.contracts.lzReceiveUln302, executor: c.contracts.lzExecutor, dvn: c.contracts.lzDvn, dvnVid: c.lzDvnVid ?? 1 },
      })),
      relayers: signers,
      dvnSigner: privateKeyToAccount(config.secrets.dvnKey),
      receiveGas: BigInt(config.messaging.receiveGas),
      confirmations: DVN_CONFIRMATIONS,
    });
    const wormholeSource = config.messaging.wormhole;
    const wormhole = new WormholeTransport({
      chains: config.chains.map((c) => ({ ...c, rpcUrl: c.rpcUrls[0] ?? '', wormhole: { core: c.contracts.wormholeCore } })),
      relayers: signers,
      vaaSource: wormholeSource.vaaSource === 'wormholescan' ? new WormholescanVaaSource({ apiUrl: wormholeSource.apiUrl, timeoutMs: wormholeSource.timeoutMs }) : new DevnetGuardianVaaSource(),
      receiverErrors: [...vaultCallAbi, ...messageProbeAbi].filter((item) => item.type === 'error'),
    });
    const chains = new Map<number, ExecutionChain>(
      config.chains.map((c) => [c.chainId, { key: c.key, chainId: c.chainId, vault: c.contracts.vault, marginEngine: c.contracts.marginEngine, signer: signers.get(c.key) as Signer }]),
    );
    // Metrics are told of credits and plans as they happen; the rest they read when scraped.
    let metrics: NodeMetrics | undefined;
    const context: ExecutionContext = {
      ledger: ledger.db,
      chains,
      transports: { layerzero, wormhole },
      actor: config.node.id,
      receiveGas: BigInt(config.messaging.receiveGas),
      onCredited: ({ transport, seconds }) => metrics?.deliveryLatency.observe({ transport }, seconds),
    };
    const tokens = new Map(config.chains.map((c) => [c.chainId, c.contracts.collateralToken]));
    const nativeUsd = new Map(config.chains.map((c) => [c.chainId, c.nativeUsd]));

    const connection: Redis = createRedis(config.redis.url);
    shutdown.add('redis', () => connection.quit());
    const orchestrator = startOrchestrator({
      connection,
      prefix: config.redis.prefix,
      ledger: ledger.db,
      worldSource: new ChainWorld({
        context,
        nativeUsd: (chainId) => nativeUsd.get(chainId) ?? 0,
        latencySeconds: config.planner.latencySeconds,
        gas: { source: 250_000n, destination: BigInt(config.messaging.receiveGas) },
        auctions: config.auction.enabled,
      }),
      policy: {
        riskPerSecondPerUsd: config.planner.riskPerSecondPerUsd,
        minAction: unitsUp(config.planner.minActionUsd),
        liquidityRate: config.planner.liquidityRate,
        homeLatencySeconds: config.planner.localLatencySeconds,
        target: config.watchers.target,
        latencySeconds: config.planner.latencySeconds,
        z: config.watchers.z,
        sigmaPrior: Math.sqrt(varianceFromAnnualVolatility(config.planner.annualVolatility)),
        localImpactBudget: config.planner.localImpactBudget,
        unwindImpactBudget: config.planner.unwindImpactBudget,
        blockSeconds: config.planner.blockSeconds,
        arbitrageHalfLifeSeconds: config.planner.arbitrageHalfLifeSeconds,
        // Without it the core offers no auction (nor does ChainWorld read any): no takers were configured.
        ...(config.auction.enabled ? { auctionTakerMargin: config.auction.takerMargin } : {}),
      },
      chainKeys: new Map(config.chains.map((c) => [c.chainId, c.key])),
      reviewEveryMs: config.planner.reviewEveryMs,
      legExecutor: new ChainLegExecutor(context),
      legDeadlineSeconds: config.planner.legDeadlineSeconds,
      concurrency: config.queues.concurrency,
      onWorkerError: (queue) => metrics?.workerErrors.inc({ queue }),
      log: logger.child({ part: 'orchestrator' }),
      onPlanned: (plan) => {
        metrics?.plannerCost.observe(plan.totalCost);
        if (plan.uncovered > 0) metrics?.plannerUncovered.inc(plan.uncovered);
      },
      stuckLegs: { everyMs: config.reconcile.stuckLegsEveryMs, chainTime: chainClock(context) },
      ...(config.unwind.enabled
        ? { unwinder: { everyMs: config.unwind.everyMs, run: async () => {
                // A job's result is JSON: counts, not bigint sizes.
                const runs = await unwindBackstops({ context, minTrade: unitsUp(config.unwind.minTradeUsd) });
                return runs.map((run) => ({ chainId: run.chainId, trades: run.trades.length, refused: run.refused.map((r) => r.reason) }));
              },
            },
          }
        : {}),
      reconciler: {
        everyMs: config.reconcile.everyMs,
        run: async () => {
          const result = await reconcile({ context, tokens, slaSeconds: config.reconcile.slaSeconds });
          return { runId: String(result.runId), findings: result.findings.length, reconciled: result.reconciled, refunded: result.refunded.length };
        },
      },
    });
    shutdown.add('orchestrator', () => orchestrator.close());
    const watchers = config.watchers.enabled ? startWatchers({ config, ledger, orchestrator, connection, logger }) : [];
    shutdown.add('watchers', () => Promise.all(watchers.map((watcher) => watcher.stop())));
    const queues = Object.values(orchestrator.queues.byName);
    metrics = createNodeMetrics({
      ledger: ledger.db,
      queues,
      watchers: () => watchers.map((watcher) => watcher.status()).filter((status) => status.leader),
      chainKeys: new Map(config.chains.map((c) => [c.chainId, c.key])),
    });
    const registered = metrics;
    shutdown.add('metrics', () => registered.close());
    const api = await buildApi({
      log: logger.child({ part: 'api' }),
      ledger: ledger.db,
      chains: config.chains,
      readiness: () => readiness({ connection, ledger, signers: [...signers.entries()], watchers, maxLagBlocks: config.watchers.maxLagBlocks + Math.max(...config.chains.map((c) => c.confirmations)) }),
      metrics: registered.registry,
      queues,
      legOperator: legOperator({ ledger: ledger.db, queues: orchestrator.queues, chainTime: chainClock(context) }),
      ...(config.secrets.adminToken ? { adminToken: config.secrets.adminToken } : {}),
    });
    const url = await api.listen({ host: config.http.host, port: config.http.port });
    shutdown.add('api', () => api.close());

    const common: Common = { config, logger, metrics: registered, shutdown };
    logger.info({ at: 'startNode', chains: config.chains.map((c) => c.key), url, ledger: ledger.location, watchers: watchers.length }, 'node started');
    return { config, common, ledger, orchestrator, context, metrics: registered, api, url, watchers, stop: () => shutdown.run() };
  } catch (error) {
    logger.error({ at: 'startNode', err: error }, 'start failed: closing what was opened');
    await shutdown.run();
    throw error;
  }
}

/** A watcher per chain, each under its lease, reporting to this node's orchestrator. */
function startWatchers(params: { config: NodeConfig; ledger: LedgerHandle; orchestrator: Orchestrator; connection: Redis; logger: Logger }): ChainWatcher[] {
  const { config } = params;
  const risk = riskConfig({ actionSeconds: config.watchers.actionSeconds, warn: config.watchers.warn, target: config.watchers.target, z: config.watchers.z, ...(config.watchers.forecastLevel === undefined ? {} : { forecastLevel: config.watchers.forecastLevel }) });
  return config.chains.map((chain) =>
    startChainWatcher({
      chain: {
        key: chain.key,
        chainId: chain.chainId,
        rpcUrls: chain.rpcUrls,
        confirmations: chain.confirmations,
        marginEngine: chain.contracts.marginEngine,
        startBlock: BigInt(chain.startBlock),
        markets: chain.markets.map((market) => ({ marketId: market.marketId as `0x${string}`, priceFeed: market.priceFeed })),
      },
      ledger: params.ledger.db,
      sink: orchestratorSink(params.orchestrator),
      risk,
      lease: new RedisLease({ redis: params.connection, name: `watcher:${chain.key}`, ttlMs: config.watchers.leaseTtlMs, owner: config.node.id, prefix: config.redis.prefix }),
      pollIntervalMs: config.watchers.pollIntervalMs,
      log: params.logger.child({ part: 'watcher', chain: chain.key }),
    }),
  );
}

/** Redis, Postgres and every chain's RPC, each answering within a bound. */
async function readiness(params: { connection: Redis; ledger: LedgerHandle; signers: readonly [string, Signer][]; watchers: readonly ChainWatcher[]; maxLagBlocks: number }): Promise<Readiness> {
  const check = async (work: () => Promise<unknown>): Promise<{ ok: boolean; detail?: string }> => {
    try {
      await Promise.race([work(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2000 ms')), 2_000))]);
      return { ok: true };
    } catch (error) {
      return { ok: false, detail: shortReason(error) };
    }
  };
  const entries: [string, { ok: boolean; detail?: string }][] = [
    ['redis', await check(() => params.connection.ping())],
    ['postgres', await check(() => params.ledger.db.execute(sql`select 1`))],
    ...(await Promise.all(params.signers.map(async ([key, signer]) => [`rpc:${key}`, await check(() => signer.public.getBlockNumber({ cacheTime: 0 }))] as [string, { ok: boolean; detail?: string }]))),
    // Only the watchers this node leads are its business; a standby is ready by definition.
    ...params.watchers
      .map((watcher) => watcher.status())
      .filter((status) => status.leader)
      .map((status): [string, { ok: boolean; detail?: string }] => {
        const behind = status.lag === undefined ? undefined : Number(status.lag);
        const ok = status.state === 'following' && behind !== undefined && behind <= params.maxLagBlocks;
        return [`watcher:${status.chain}`, ok ? { ok } : { ok, detail: `${status.state}, ${behind ?? '?'} blocks behind (at most ${params.maxLagBlocks})` }];
      }),
  ];
  return { ready: entries.every(([, status]) => status.ok), checks: Object.fromEntries(entries) };
}

/**
 * The node's logger from its config: level and format from `log`, and every secret the node
 * holds (keys, admin token, the credentials in its RPC, Redis, database and VAA API URLs) scrubbed.
 */
export function nodeLogger(config: NodeConfig, destination?: Parameters<typeof createLogger>[0]['destination']): Logger {
  const wormhole = config.messaging.wormhole;
  return createLogger({
    level: config.log.level,
    format: config.log.format,
    ...(destination ? { destination } : {}),
    secrets: [config.secrets.relayerKey, config.secrets.dvnKey, ...(config.secrets.adminToken ? [config.secrets.adminToken] : [])],
    urls: [...config.chains.flatMap((c) => c.rpcUrls), config.redis.url, ...(config.secrets.databaseUrl ? [config.secrets.databaseUrl] : []), ...(wormhole.vaaSource === 'wormholescan' ? [wormhole.apiUrl] : [])],
  });
}
