/**
 * A node that only runs the orchestrator's `legs` and `deliveries` workers, with the real
 * chain executor over a devnet: `node --import tsx leg-worker.ts <config.json>`. SIGTERM drains
 * and exits 0. With LEG_WORKER_EXIT_ON_SOURCE_MINED set, it exits with that code the moment a
 * leg's source transaction is mined, before the ledger records it: a crash at the worst time.
 */
import { parseManifest } from '../../../chains/devnet/manifest.js';
import { devnetTransports } from '../../../chains/devnet/transports.js';
import { openPostgresLedger } from '../../../db/open-postgres.js';
import { ChainLegExecutor } from '../../../relayer/execution/chain-leg-executor.js';
import { devnetExecutionContext } from '../../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../../relayer/execution/execution-context.js';
import { defaultPolicySettings, fixedWorld } from '../../../relayer/orchestrator/fixed-world.js';
import { startOrchestrator } from '../../../relayer/orchestrator/orchestrator.js';
import { createRedis } from '../../../relayer/orchestrator/redis.js';
import { parseWith, readJsonFile } from '../../../relayer/validation.js';
import { EXIT_ON_SOURCE_MINED, legWorkerConfigSchema, printSourceMined } from './leg-worker-process.js';

const file = process.argv[2];
if (!file) throw new Error('usage: leg-worker.ts <config.json>');
const config = parseWith(legWorkerConfigSchema, await readJsonFile(file, 'leg worker config'), file);
const exitCode = process.env[EXIT_ON_SOURCE_MINED] ? Number(process.env[EXIT_ON_SOURCE_MINED]) : undefined;

const manifest = parseManifest(config.manifest);
const ledger = openPostgresLedger({ url: config.databaseUrl, applicationName: `leg worker ${process.pid}` });
const connection = createRedis(config.redisUrl);
const context: ExecutionContext = {
  ...devnetExecutionContext({ manifest, transports: devnetTransports({ manifest }), ledger: ledger.db, actor: `leg-worker-${process.pid}` }),
  ...(exitCode === undefined
    ? {}
    : {
        onSourceMined: (mined) => {
          printSourceMined(mined);
          process.exit(exitCode);
        },
      }),
};
const orchestrator = startOrchestrator({
  connection,
  prefix: config.prefix,
  ledger: ledger.db,
  // It plans nothing (`run` leaves out the planning queues): an empty world, the default policy.
  worldSource: fixedWorld(),
  policy: defaultPolicySettings,
  chainKeys: new Map(manifest.chains.map((chain) => [chain.chainId, chain.key])),
  legExecutor: new ChainLegExecutor(context),
  run: ['legs', 'deliveries'],
  workerOptions: { lockDuration: config.lockDurationMs, stalledInterval: config.stalledIntervalMs },
});

process.once('SIGTERM', () => {
  void (async () => {
    await orchestrator.close();
    await ledger.close();
    connection.disconnect();
    process.exit(0);
  })();
});
