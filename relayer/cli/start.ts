/**
 * `relayer start --config FILE`: one node against the chains in FILE (secrets from the
 * environment). SIGINT, SIGTERM, SIGHUP or its parent exiting stops it: no new work, jobs in flight finish, connections
 * close; exit 0, or 1 if that takes longer than the grace period.
 */
import { UsageError } from '../errors.js';
import { loadNodeConfig } from '../node/config.js';
import { startNode } from '../node/start-node.js';
import { integerOption, parseCommandLine } from './args.js';
import type { Command } from './commands.js';
import { untilStopped } from './until-stopped.js';

const SYNOPSIS = 'relayer start --config FILE [--grace-seconds N]';
const USAGE = [
  `usage: ${SYNOPSIS}`,
  '',
  'environment:',
  '  RELAYER_PRIVATE_KEY (or RELAYER_PRIVATE_KEY_FILE)          the relayer role on every vault',
  '  RELAYER_DVN_PRIVATE_KEY (or RELAYER_DVN_PRIVATE_KEY_FILE)  signs LayerZero verifications',
  '  RELAYER_ADMIN_TOKEN (or _FILE)   bearer token for /admin/queues (no token: no dashboard)',
  '  DATABASE_URL                     the ledger (absent: embedded PGlite in .relayer/pglite)',
].join('\n');

export const startCommand: Command = {
  async run(args) {
    const { values, positionals } = parseCommandLine(args, { config: { type: 'string' }, 'grace-seconds': { type: 'string' } }, SYNOPSIS, USAGE);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${SYNOPSIS})`);
    if (!values.config) throw new UsageError(`--config FILE is required (usage: ${SYNOPSIS})`);
    const grace = integerOption({ name: 'grace-seconds', value: values['grace-seconds'], min: 1, max: 3_600, fallback: 30 });
    const config = await loadNodeConfig(values.config, process.env);
    const node = await startNode(config);
    process.stdout.write(`relayer ${config.node.id}: serving ${config.chains.map((c) => c.key).join(', ')}; API at ${node.url}; ledger ${node.ledger.location}\n`);
    const reason = await untilStopped();
    process.stdout.write(`relayer ${config.node.id}: ${reason}, draining\n`);
    const stopped = await Promise.race([node.stop().then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, grace * 1_000, false).unref())]);
    process.stdout.write(`relayer ${config.node.id}: ${stopped ? 'stopped' : `did not stop within ${grace} s`}\n`);
    return stopped ? 0 : 1;
  },
};
