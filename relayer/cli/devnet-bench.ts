import { toHex } from 'viem';
import { startDevnet } from '../../chains/devnet/devnet.js';
import { probeReceipts, sendProbe } from '../../chains/devnet/probe.js';
import { devnetTransports } from '../../chains/devnet/transports.js';
import { RelayerError } from '../errors.js';
import { integerOption, parseCommandLine } from './args.js';

const BENCH_CHAINS = 3;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const ms = (value: number): string => `${value.toFixed(1)} ms`;
  return `${label.padEnd(28)} n=${String(sorted.length).padEnd(4)} min ${ms(sorted[0] ?? Number.NaN)}  p50 ${ms(percentile(sorted, 50))}  p95 ${ms(percentile(sorted, 95))}  max ${ms(sorted.at(-1) ?? Number.NaN)}`;
}

/**
 * `relayer devnet bench`: how long a 3-chain devnet takes to boot with every deployment, and
 * how long a message takes from the send call to its delivery receipt on each transport
 * (messages rotate over all ordered chain pairs).
 */
export async function runDevnetBench(args: readonly string[]): Promise<number> {
  const { values } = parseCommandLine(args, { runs: { type: 'string' }, messages: { type: 'string' } }, 'relayer devnet bench [--runs K] [--messages M]');
  const runs = integerOption({ name: 'runs', value: values.runs, min: 1, max: 50, fallback: 5 });
  const messages = integerOption({ name: 'messages', value: values.messages, min: 1, max: 1_000, fallback: 30 });

  const boots: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    const devnet = await startDevnet({ chains: BENCH_CHAINS });
    boots.push(performance.now() - started);
    await devnet.stop();
  }
  process.stdout.write(`${summary(`boot, ${BENCH_CHAINS} chains + deployments`, boots)}\n`);

  const devnet = await startDevnet({ chains: BENCH_CHAINS });
  try {
    const transports = devnetTransports({ manifest: devnet.manifest });
    const chains = devnet.manifest.chains;
    const pairs = chains.flatMap((from) => chains.filter((to) => to.key !== from.key).map((to) => ({ from, to })));
    for (const transport of [transports.layerzero, transports.wormhole]) {
      const latencies: number[] = [];
      for (let i = 0; i < messages; i += 1) {
        const pair = pairs[i % pairs.length];
        if (!pair) continue;
        const started = performance.now();
        const message = await sendProbe({ transports, transport, ...pair, payload: toHex(`bench ${transport.kind} ${i}`) });
        await transport.deliver(message);
        latencies.push(performance.now() - started);
        if ((await probeReceipts({ transports, message, to: pair.to })).length !== 1) {
          throw new RelayerError(`bench message ${i} over ${transport.kind} was not delivered exactly once`);
        }
      }
      process.stdout.write(`${summary(`${transport.kind} send-to-delivered`, latencies)}\n`);
    }
  } finally {
    await devnet.stop();
  }
  return 0;
}
