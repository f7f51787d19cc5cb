/**
 * The `relayer` subcommands. Each lives in its own module, loaded only when it is run, so a
 * quick command never pays for the imports of a heavy one; the summaries live here so that
 * `relayer help` loads none of them.
 */
export interface Command {
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(args: readonly string[]): Promise<number>;
}

export interface CommandEntry {
  /** One line for `relayer help`. */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const commands: Record<string, CommandEntry> = {
  devnet: {
    summary: 'run the multi-chain devnet on the real LayerZero V2 and Wormhole contracts',
    load: async () => (await import('./devnet.js')).devnetCommand,
  },
  start: {
    summary: 'run a node: watchers, workers, reconciliation and the HTTP API (--config FILE)',
    load: async () => (await import('./start.js')).startCommand,
  },
  plan: {
    summary: 'print the cost-optimal sourcing plan of a planner instance (JSON or JSON lines)',
    load: async () => (await import('./plan.js')).planCommand,
  },
  status: {
    summary: 'show a settlement, leg, shortfall or message from the ledger by id',
    load: async () => (await import('./status.js')).statusCommand,
  },
  migrate: {
    summary: 'apply the ledger migrations to DATABASE_URL (or the embedded database)',
    load: async () => (await import('./migrate.js')).migrateCommand,
  },
  simulate: {
    summary: 'compare liquidation strategies on a crash scenario: bad debt, price impact, cost (in process)',
    load: async () => (await import('./simulate.js')).simulateCommand,
  },
  report: {
    summary: 'print a ledger report: relayer report NAME [--format table|csv|json], or --list',
    load: async () => (await import('./report.js')).reportCommand,
  },
};
