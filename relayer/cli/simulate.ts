/**
 * `relayer simulate --scenario FILE`: the stress simulator (DESIGN.md section 9). Runs the
 * scenario's strategies in process over its seeded price paths and population, and prints
 * their metrics side by side (table) or as JSON; `--chart` also writes an SVG chart.
 */
import { writeFile } from 'node:fs/promises';
import { RelayerError, UsageError } from '../errors.js';
import { svgChart } from '../simulate/chart/svg-chart.js';
import { formatTable } from '../simulate/report/format-table.js';
import { resultJson } from '../simulate/report/result-json.js';
import { loadScenario } from '../simulate/scenario/load.js';
import { simulate } from '../simulate/simulate.js';
import { isStrategyName, STRATEGY_NAMES, type StrategyName } from '../simulate/strategy.js';
import { integerOption, parseCommandLine } from './args.js';
import type { Command } from './commands.js';

const SYNOPSIS = 'relayer simulate --scenario FILE [--strategy NAME[,NAME]|all] [--format table|json] [--chart FILE.svg] [--seed N]';
const USAGE = [
  `usage: ${SYNOPSIS}`,
  '',
  'options:',
  '  --scenario FILE     the scenario (JSON; see relayer/simulate/scenarios/ and the README)',
  `  --strategy NAMES    ${STRATEGY_NAMES.join(', ')}, comma-separated, or all (default)`,
  '  --format FORMAT     table (default) or json',
  '  --chart FILE.svg    also write the price path and cumulative bad debt per strategy',
  "  --seed N            replace the scenario's seed (paths and, unless it sets its own, the population)",
  '  -h, --help',
].join('\n');

const OPTIONS = {
  scenario: { type: 'string' },
  strategy: { type: 'string' },
  format: { type: 'string' },
  chart: { type: 'string' },
  seed: { type: 'string' },
} as const;

export const simulateCommand: Command = {
  async run(args) {
    const { values, positionals } = parseCommandLine(args, OPTIONS, SYNOPSIS, USAGE);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${SYNOPSIS})`);
    if (!values.scenario) throw new UsageError(`--scenario FILE is required (usage: ${SYNOPSIS})`);
    const format = values.format ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, got '${format}'`);
    const strategies = strategyNames(values.strategy);
    const loaded = await loadScenario(values.scenario);
    const scenario = values.seed === undefined ? loaded : { ...loaded, seed: integerOption({ name: 'seed', value: values.seed, min: 0, max: 2 ** 32 - 1 }) };
    const result = simulate({ scenario, strategies });
    if (values.chart) {
      try {
        await writeFile(values.chart, svgChart(result));
      } catch (cause) {
        throw new RelayerError(`--chart: cannot write ${values.chart}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
      }
    }
    process.stdout.write(format === 'json' ? `${JSON.stringify(resultJson(result), null, 2)}\n` : formatTable(result));
    return 0;
  },
};

function strategyNames(value: string | undefined): StrategyName[] {
  if (value === undefined || value === 'all') return [...STRATEGY_NAMES];
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.find((name) => !isStrategyName(name));
  if (unknown !== undefined) throw new UsageError(`--strategy: unknown strategy '${unknown}' (strategies: ${STRATEGY_NAMES.join(', ')}, or all)`);
  return [...new Set(names.filter(isStrategyName))];
}
