import { readFile } from 'node:fs/promises';
import { getAddress, isHex, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { resolveDatabaseTarget } from '../../db/index.js';
import { ConfigError } from '../errors.js';
import { LOG_FORMATS, LOG_LEVELS } from '../log/logger.js';
import { fieldPath, parseWith, readJsonFile } from '../validation.js';

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address')
  .transform((value) => getAddress(value) as Address);
const url = (protocols: readonly string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a URL (${protocols.join(' or ')})`);

/** The lowest fee cap the node accepts, in gwei. */
const MIN_FEE_CAP_GWEI = 1;

const DEFAULT_CONCURRENCY = { shortfalls: 64, plans: 32, legs: 16, deliveries: 16, reconcile: 1, sweeps: 1, unwinds: 1 };
const workerConcurrency = (fallback: number) => z.number().int().min(1, 'must be at least 1').max(1_000, 'must be at most 1000').default(fallback);

const chainSchema = z.strictObject({
  key: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
  chainId: z.number().int().positive(),
  rpcUrls: z.array(url(['http:', 'https:'])).min(1, 'must list at least one RPC URL'),
  lzEid: z.number().int().min(30_000, 'must be 30000 or more (LayerZero V2 eids)'),
  wormholeChainId: z.number().int().positive().max(65_535),
  confirmations: z.number().int('must be a whole number of blocks').min(0, 'must be 0 or more').default(1),
  /** The block the protocol was deployed at: watchers start there. */
  startBlock: z.number().int().min(0).default(0),
  contracts: z.strictObject({
    vault: address,
    marginEngine: address,
    collateralToken: address,
    lzEndpoint: address,
    lzEndpointView: address,
    lzReceiveUln302: address,
    lzExecutor: address,
    lzDvn: address,
    wormholeCore: address,
  }),
  /** The DVN's verifier id (only when the node plays the DVN). */
  lzDvnVid: z.number().int().positive().optional(),
  markets: z.array(z.strictObject({ symbol: z.string(), marketId: z.string().regex(/^0x[0-9a-fA-F]{64}$/), priceFeed: address })).default([]),
  /** USD per native token, for pricing gas and messaging fees. */
  nativeUsd: z.number().positive().default(3_000),
});

export const nodeConfigSchema = z
  .strictObject({
    node: z.strictObject({ id: z.string().min(1).default('relayer-node') }).default({ id: 'relayer-node' }),
    /** The node's log (relayer/log): level, and JSON lines or pretty ones (`auto`: pretty on a terminal). */
    log: z
      .strictObject({
        level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
        format: z.enum(LOG_FORMATS, { error: `must be one of ${LOG_FORMATS.join(', ')}` }).default('auto'),
      })
      .default({ level: 'info', format: 'auto' }),
    redis: z.strictObject({ url: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'), prefix: z.string().min(1).default('relayer') }).default({ url: 'redis://127.0.0.1:6379', prefix: 'relayer' }),
    http: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65_535).default(8080) }).default({ host: '127.0.0.1', port: 8080 }),
    chains: z.array(chainSchema).min(1, 'must list at least one chain'),
    /** How the node gets LayerZero packets verified and executed, and Wormhole VAAs signed. */
    messaging: z
      .strictObject({
        layerzero: z.enum(['node-dvn-executor']).default('node-dvn-executor'),
        wormhole: z.discriminatedUnion('vaaSource', [
          z.strictObject({ vaaSource: z.literal('devnet-guardian') }),
          z.strictObject({ vaaSource: z.literal('wormholescan'), apiUrl: url(['http:', 'https:']), timeoutMs: z.number().int().positive().default(120_000) }),
        ]),
        receiveGas: z.number().int().positive().default(300_000),
      })
      .default({ layerzero: 'node-dvn-executor', wormhole: { vaaSource: 'devnet-guardian' }, receiveGas: 300_000 }),
    planner: z
      .strictObject({
        /** The price of waiting, per second and per USD still needed (the simulator's riskPerSecondPerUsd). */
        riskPerSecondPerUsd: z.number().min(0).default(0.0001),
        /** A need below this many USD is not worth a transaction. */
        minActionUsd: z.number().min(0).default(1),
        /** How often open episodes with nothing in flight are looked at again. */
        reviewEveryMs: z.number().int().positive().default(5_000),
        legDeadlineSeconds: z.number().int().positive().default(3_600),
        latencySeconds: z.strictObject({ layerzero: z.number().positive(), wormhole: z.number().positive() }).default({ layerzero: 30, wormhole: 60 }),
        liquidityRate: z.number().min(0).default(0.002),
        localLatencySeconds: z.number().positive().default(2),
        /** A home close keeps the engine's pool within this fraction of the oracle; the next waits for the next block. */
        localImpactBudget: z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)').default(0.02),
        /** The per-block budget a takeover's risk is priced with: how fast the backstop could unwind it through the pool. */
        unwindImpactBudget: z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)').default(0.01),
        /** Seconds between two blocks of the chains (one trade into a pool each). */
        blockSeconds: z.number().positive().default(2),
        /** Half-life of a pool's deviation from the oracle (0: the engine's virtual AMM, re-centred on the oracle every trade). */
        arbitrageHalfLifeSeconds: z.number().min(0).default(0),
        /** The annual volatility a takeover's risk is priced at where the watcher's assessment shows no more (its own prior). */
        annualVolatility: z.number().positive().default(0.8),
      })
      .default({
        riskPerSecondPerUsd: 0.0001,
        minActionUsd: 1,
        reviewEveryMs: 5_000,
        legDeadlineSeconds: 3_600,
        latencySeconds: { layerzero: 30, wormhole: 60 },
        liquidityRate: 0.002,
        localLatencySeconds: 2,
        localImpactBudget: 0.02,
        unwindImpactBudget: 0.01,
        blockSeconds: 2,
        arbitrageHalfLifeSeconds: 0,
        annualVolatility: 0.8,
      }),
    /** How the node's transactions are sent (chains/tx-sender.ts): when a stuck one is replaced, by how much, up to what. */
    sender: z
      .strictObject({
        replaceAfterBlocks: z.number().int('must be a whole number of blocks').min(1, 'must be at least 1').default(3),
        /** Each replacement raises the fees by this much (Hyperlane's escalator: 12.5); nodes refuse a replacement below 10. */
        feeBumpPercent: z.number().min(10, 'must be at least 10 (nodes refuse a smaller replacement)').max(100, 'must be at most 100').default(12.5),
        /** No transaction pays more than this per gas. */
        maxFeePerGasGwei: z.number().min(MIN_FEE_CAP_GWEI, `must be at least ${MIN_FEE_CAP_GWEI} gwei (the floor: below it a transaction cannot pay a base fee)`).default(500),
      })
      .default({ replaceAfterBlocks: 3, feeBumpPercent: 12.5, maxFeePerGasGwei: 500 }),
    /** Jobs each worker of this node runs at once, per queue (DESIGN.md section 7). */
    queues: z
      .strictObject({
        concurrency: z
          .strictObject({
            shortfalls: workerConcurrency(64),
            plans: workerConcurrency(32),
            legs: workerConcurrency(16),
            deliveries: workerConcurrency(16),
            reconcile: workerConcurrency(1),
            sweeps: workerConcurrency(1),
            unwinds: workerConcurrency(1),
          })
          .default(DEFAULT_CONCURRENCY),
      })
      .default({ concurrency: DEFAULT_CONCURRENCY }),
    reconcile: z
      .strictObject({
        everyMs: z.number().int().positive().default(30_000),
        slaSeconds: z.number().int().positive().default(900),
        /** How often legs in progress whose job is gone or failed are re-driven (the stuck-leg sweeper). */
        stuckLegsEveryMs: z.number().int().positive().default(15_000),
      })
      .default({ everyMs: 30_000, slaSeconds: 900, stuckLegsEveryMs: 15_000 }),
    /** The backstop's unwinding (relayer/orchestrator/backstop-unwinder.ts). */
    unwind: z
      .strictObject({
        /** Off by default, as in the simulator: unwinding cuts the protocol's loss but keeps the pools pressed (README, simulator). */
        enabled: z.boolean().default(false),
        /** How often: about the time the pools take to recover from one block's budget. */
        everyMs: z.number().int().positive().default(5_000),
        /** Below this a trade is not worth its transaction. */
        minTradeUsd: z.number().positive().default(10),
      })
      .default({ enabled: false, everyMs: 5_000, minTradeUsd: 10 }),
    /** Dutch auctions (MarginEngine.startAuction) as an option of the decision core. */
    auction: z
      .strictObject({
        /** Off by default: a deployment without takers must not start auctions nobody takes. */
        enabled: z.boolean().default(false),
        /** How far below the pool's price (a fraction in [0, 1)) takers wait for an auction's price before they take it. */
        takerMargin: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)').default(0.01),
      })
      .default({ enabled: false, takerMargin: 0.01 }),
    /** The watchers' risk math (DESIGN.md section 5) and how they follow their chains. */
    watchers: z
      .strictObject({
        enabled: z.boolean().default(true),
        actionSeconds: z.number().min(0).default(60),
        warn: z.number().min(0).default(0.05),
        target: z.number().positive().default(0.2),
        z: z.number().positive().default(3),
        forecastLevel: z.number().gt(0).lt(1).optional(),
        leaseTtlMs: z.number().int().min(100).default(15_000),
        pollIntervalMs: z.number().int().positive().default(1_000),
        /** /readyz fails while a watcher this node leads is further than this behind its head. */
        maxLagBlocks: z.number().int().min(0).default(20),
      })
      .default({ enabled: true, actionSeconds: 60, warn: 0.05, target: 0.2, z: 3, leaseTtlMs: 15_000, pollIntervalMs: 1_000, maxLagBlocks: 20 }),
  })
  .superRefine((config, ctx) => {
    for (const field of ['key', 'chainId', 'lzEid', 'wormholeChainId'] as const) {
      const seen = new Set<unknown>();
      config.chains.forEach((chain, index) => {
        if (seen.has(chain[field])) ctx.addIssue({ code: 'custom', path: ['chains', index, field], message: `duplicate ${field} ${String(chain[field])}` });
        seen.add(chain[field]);
      });
    }
  });

export type NodeConfigFile = z.input<typeof nodeConfigSchema>;

/** What comes from the environment: secrets only from there (or a key file it names), never the config file. */
export interface NodeEnvironment {
  readonly relayerKey: Hex;
  /** Signs LayerZero verifications when the node plays the DVN. */
  readonly dvnKey: Hex;
  readonly adminToken: string | undefined;
  readonly databaseUrl: string | undefined;
  /** Where the embedded database lives when there is no DATABASE_URL. */
  readonly pgliteDir: string | undefined;
}

export type NodeConfig = z.output<typeof nodeConfigSchema> & { readonly secrets: NodeEnvironment };

const privateKey = (name: string, value: string | undefined): Hex => {
  if (value === undefined || value === '') throw new ConfigError(`${name} is not set: the node needs it to sign (set it in the environment, or ${name}_FILE)`);
  const key = value.trim();
  if (!isHex(key) || key.length !== 66) throw new ConfigError(`${name} must be a 0x-prefixed 32-byte hex private key`);
  return key;
};

async function secret(env: Readonly<Record<string, string | undefined>>, name: string): Promise<string | undefined> {
  const file = env[`${name}_FILE`];
  if (file === undefined) return env[name];
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (cause) {
    throw new ConfigError(`${name}_FILE: cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
}

/**
 * Validates the config file's contents. Every object refuses keys it does not know, so a
 * misspelt field (`confirmation` for `confirmations`) stops the start instead of running on a
 * default; the refusal names the key where it sits: `chains[0].confirmation: unknown key`.
 */
function parseNodeConfigFile(value: unknown, source: string): z.output<typeof nodeConfigSchema> {
  const result = nodeConfigSchema.safeParse(value);
  const issue = result.success ? undefined : result.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const where = issue.keys.map((key) => fieldPath([...issue.path, key])).join(', ');
    throw new ConfigError(`${source}: ${where}: unknown ${issue.keys.length === 1 ? 'key' : 'keys'}: not a field of the node config (misspelt?); fix or remove it, the node will not start with it`);
  }
  return parseWith(nodeConfigSchema, value, source);
}

/** Parses the config (file contents) and the secrets (environment); any problem names its field. */
export async function resolveNodeConfig(params: { value: unknown; source: string; env: Readonly<Record<string, string | undefined>> }): Promise<NodeConfig> {
  const parsed = parseNodeConfigFile(params.value, params.source);
  const databaseUrl = params.env.DATABASE_URL;
  resolveDatabaseTarget({ databaseUrl }); // a malformed DATABASE_URL stops the start here
  return {
    ...parsed,
    secrets: {
      relayerKey: privateKey('RELAYER_PRIVATE_KEY', await secret(params.env, 'RELAYER_PRIVATE_KEY')),
      dvnKey: privateKey('RELAYER_DVN_PRIVATE_KEY', await secret(params.env, 'RELAYER_DVN_PRIVATE_KEY')),
      adminToken: await secret(params.env, 'RELAYER_ADMIN_TOKEN'),
      databaseUrl,
      pgliteDir: params.env.RELAYER_PGLITE_DIR,
    },
  };
}

export async function loadNodeConfig(file: string, env: Readonly<Record<string, string | undefined>>): Promise<NodeConfig> {
  return resolveNodeConfig({ value: await readJsonFile(file, 'config'), source: file, env });
}
