import { UsageError, errorMessage } from '../errors.js';
import { HelpRequested } from './args.js';
import { commands } from './commands.js';

function help(): string {
  return [
    'usage: relayer <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, entry]) => `  ${name.padEnd(10)} ${entry.summary}`),
    '',
    'Run `relayer <command> --help` for the options of one command.',
  ].join('\n');
}

/** Dispatches one command line; every failure becomes one line on stderr and a non-zero exit. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`relayer: unknown command '${name}' (commands: ${Object.keys(commands).join(', ')})\n`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.run(rest);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(`${error.usage.startsWith('usage:') ? '' : 'usage: '}${error.usage}\n`);
      return 0;
    }
    process.stderr.write(`relayer ${name}: ${errorMessage(error)}\n`);
    if (process.env.RELAYER_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
