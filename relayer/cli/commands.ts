/**
 * The `relayer` subcommands. Each lives in its own module, loaded only when it is run, so a
 * quick command never pays for the imports of a heavy one.
 */
export interface Command {
  /** One line for `relayer help`. */
  readonly summary: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(args: readonly string[]): Promise<number>;
}

export const commands: Record<string, () => Promise<Command>> = {
  devnet: async () => (await import('./devnet.js')).devnetCommand,
  plan: async () => (await import('./plan.js')).planCommand,
  migrate: async () => (await import('./migrate.js')).migrateCommand,
  report: async () => (await import('./report.js')).reportCommand,
};
