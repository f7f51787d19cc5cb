import { access, constants } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MAX_DEVNET_CHAINS, startDevnet, type Devnet } from '../../chains/devnet/devnet.js';
import { writeManifest } from '../../chains/devnet/manifest.js';
import { proveTransports, type ProbeResult } from '../../chains/devnet/probe.js';
import { devnetTransports } from '../../chains/devnet/transports.js';
import { messageIdString } from '../../chains/messaging/transport.js';
import { UsageError } from '../errors.js';
import { integerOption, parseCommandLine, positiveNumberOption } from './args.js';
import type { Command } from './commands.js';
import { runDevnetBench } from './devnet-bench.js';
import { exitCodeFor, untilStopped, type StopReason } from './until-stopped.js';
import { DemoStopped, runDemo, type DemoResult } from '../demo/run-demo.js';
import { DEFAULT_SCENARIO } from '../demo/scenario.js';

const USAGE = [
  'relayer devnet [--chains N] [--accounts N] [--scenario FILE]',
  '                                                 the main job: devnet, seeded accounts, a node, a price crash, settlement',
  'relayer devnet prove [--chains N]                bring a devnet up, prove every route on both transports, stop',
  'relayer devnet up --chains N --manifest FILE [--block-time S] [--port P]',
  '                                                 bring a devnet up and keep it running until a signal or its parent exits',
  'relayer devnet bench [--runs K]                  measure boot time and send-to-delivered latency',
].join('\n');

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function resultLine(result: ProbeResult): string {
  const route = `${result.from} -> ${result.to}`.padEnd(18);
  return `  ${result.transport.padEnd(10)} ${route} ${result.sendToDeliveredMs.toFixed(0).padStart(5)} ms  ${messageIdString(result.messageId)}`;
}

/** The devnet proves one message each way on each transport. */
async function prove(args: readonly string[]): Promise<number> {
  const { values } = parseCommandLine(args, { chains: { type: 'string' } }, 'relayer devnet prove [--chains N]');
  const chains = integerOption({ name: 'chains', value: values.chains, min: 2, max: MAX_DEVNET_CHAINS, fallback: 3 });
  const started = performance.now();
  const devnet = await startDevnet({ chains, log: (line) => say(`devnet: ${line}`) });
  try {
    say(`devnet: ready in ${(performance.now() - started).toFixed(0)} ms`);
    say('delivering one message on every route (transport, route, send-to-delivered, message id):');
    const transports = devnetTransports({ manifest: devnet.manifest });
    const results = await proveTransports({ transports, chains: devnet.manifest.chains, onResult: (result) => say(resultLine(result)) });
    say(`ok: ${results.length} messages, each delivered exactly once with its payload`);
    return 0;
  } finally {
    await devnet.stop();
    say(`devnet: stopped ${devnet.anvils.length} chains`);
  }
}

/** The main job: the crash demo on the embedded defaults (PGlite unless DATABASE_URL). */
async function demo(args: readonly string[]): Promise<number> {
  const usage = 'relayer devnet [--chains N] [--accounts N] [--scenario FILE]';
  const { values } = parseCommandLine(args, { chains: { type: 'string' }, accounts: { type: 'string' }, scenario: { type: 'string' } }, usage, USAGE);
  // A signal stops the run, its node and its chains (never left running), then the process.
  const stop = new AbortController();
  void untilStopped().then((reason) => stop.abort(reason));
  let result: DemoResult;
  try {
    result = await runDemo({
      scenarioFile: values.scenario ?? DEFAULT_SCENARIO,
      ...(values.chains === undefined ? {} : { chains: integerOption({ name: 'chains', value: values.chains, min: 2, max: MAX_DEVNET_CHAINS }) }),
      ...(values.accounts === undefined ? {} : { accounts: integerOption({ name: 'accounts', value: values.accounts, min: 1, max: 900 }) }),
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
      settleTimeoutMs: 120_000,
      log: say,
      stop: stop.signal,
    });
  } catch (error) {
    if (!(error instanceof DemoStopped)) throw error;
    say(`devnet: ${stoppedBy(error.reason as StopReason)}; the node and every chain are stopped`);
    return exitCodeFor(error.reason as StopReason);
  }
  say(result.ok ? `ok: every account the crash put at risk is restored or reported uncovered (open ${result.uncovered}, each uncovered; below maintenance 0), reconciliation clean` : `NOT OK: ${result.atRisk} accounts still at risk, ${result.belowMaintenance} below maintenance, ${result.findings} findings (see above)`);
  return result.ok ? 0 : 1;
}

async function up(args: readonly string[]): Promise<number> {
  const usage = 'relayer devnet up --chains N --manifest FILE [--block-time S] [--port P]';
  const { values, positionals } = parseCommandLine(
    args,
    { chains: { type: 'string' }, manifest: { type: 'string' }, 'block-time': { type: 'string' }, port: { type: 'string' } },
    usage,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${usage})`);
  const chains = integerOption({ name: 'chains', value: values.chains, min: 1, max: MAX_DEVNET_CHAINS });
  if (!values.manifest) throw new UsageError(`--manifest FILE is required (usage: ${usage})`);
  const manifestFile = resolve(values.manifest);
  const blockTime = positiveNumberOption('block-time', values['block-time']);
  const basePort = values.port === undefined ? undefined : integerOption({ name: 'port', value: values.port, min: 1024, max: 65_535 - chains + 1 });
  try {
    await access(dirname(manifestFile), constants.W_OK);
  } catch {
    throw new UsageError(`--manifest: directory ${dirname(manifestFile)} does not exist or is not writable`);
  }

  // Signals that arrive while deploying must still stop the chains: listen from the start.
  const stopped = untilStopped();
  const started = performance.now();
  const devnet: Devnet = await startDevnet({ chains, blockTime, basePort, log: (line) => say(`devnet: ${line}`) });
  try {
    await writeManifest(manifestFile, devnet.manifest);
    say(`devnet: ready in ${(performance.now() - started).toFixed(0)} ms; manifest written to ${manifestFile}`);
    for (const chain of devnet.manifest.chains) {
      say(`  ${chain.key.padEnd(8)} chainId ${chain.chainId}  ${chain.rpcUrl}  lzEid ${chain.lzEid}  wormhole ${chain.wormholeChainId}`);
    }
    say('devnet: running; SIGINT, SIGTERM, SIGHUP or the parent exiting stops every chain');
    say(`devnet: ${stoppedBy(await stopped)}, stopping`);
    return 0;
  } finally {
    await devnet.stop();
    say(`devnet: stopped ${devnet.anvils.length} chains`);
  }
}

export const devnetCommand: Command = {
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'up') return up(rest);
    if (sub === 'prove') return prove(rest);
    if (sub === 'bench') return runDevnetBench(rest);
    if (sub === '--help' || sub === '-h') {
      say(USAGE);
      return 0;
    }
    if (sub !== undefined && !sub.startsWith('-')) throw new UsageError(`unknown devnet subcommand '${sub}' (usage:\n${USAGE})`);
    return demo(args);
  },
};

const stoppedBy = (reason: StopReason): string => (reason === 'parent exited' ? 'parent exited' : `${reason} received`);
