/**
 * `relayer status ID [--json]`: a settlement, leg, shortfall or message from the ledger, as a
 * readable table or as JSON (amounts as decimal strings).
 */
import { databaseTargetFrom, DATABASE_OPTIONS, DATABASE_OPTIONS_HELP } from '../../db/cli-target.js';
import { openLedger } from '../../db/open-ledger.js';
import { MESSAGE_ID } from '../api/ids.js';
import { ConfigError, UsageError } from '../errors.js';
import { findById, type FoundRecord } from '../status/find-by-id.js';
import { toJson, type Json } from '../status/json.js';
import { parseCommandLine } from './args.js';
import type { Command } from './commands.js';

const SYNOPSIS = 'relayer status ID [--json]';
const USAGE = [
  `usage: ${SYNOPSIS}`,
  '',
  'ID: a settlement, leg or shortfall id (0x + 64 hex), a LayerZero GUID, or a Wormhole chain/emitter/sequence',
  '',
  'options:',
  '  --json               print JSON instead of a table',
  ...DATABASE_OPTIONS_HELP,
  '  -h, --help',
].join('\n');

const scalar = (value: Json): string => (value === null ? '-' : typeof value === 'object' ? JSON.stringify(value) : String(value));

/** `key  value` lines for one object, keys aligned. */
function block(title: string, value: Json): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${title}: ${scalar(value)}`];
  const width = Math.max(...Object.keys(value).map((k) => k.length));
  return [title, ...Object.entries(value).map(([key, inner]) => `  ${key.padEnd(width)}  ${scalar(inner)}`)];
}

/** One row per item, chosen columns, aligned. */
function table(title: string, rows: readonly Json[], columns: readonly string[]): string[] {
  const cells = rows.map((row) => columns.map((column) => (row && typeof row === 'object' && !Array.isArray(row) ? scalar(row[column] ?? null) : '')));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: readonly string[]) => `  ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return [`${title} (${rows.length})`, line(columns), ...cells.map(line)];
}

function render(found: FoundRecord): string {
  const json = toJson(found.record) as Record<string, Json>;
  const lines: string[] = [];
  switch (found.kind) {
    case 'settlement':
      lines.push(`status: ${scalar(json.status ?? null)}`, ...block('settlement', json.settlement ?? null));
      lines.push(...table('legs', (json.legs as Json[]) ?? [], ['id', 'kind', 'sourceChainId', 'destinationChainId', 'transport', 'amount', 'status']));
      break;
    case 'leg':
      lines.push(...block('leg', json.leg ?? null), ...table('events', (json.events as Json[]) ?? [], ['seq', 'fromStatus', 'toStatus', 'chainId', 'txHash', 'amount', 'occurredAt']));
      break;
    case 'shortfall':
      lines.push(...block('shortfall', json.shortfall ?? null), `settlements: ${scalar(json.settlements ?? null)}`);
      lines.push(...block('latest assessment', json.latestAssessment ?? null));
      lines.push(`in flight relief: ${scalar(json.inFlightRelief ?? null)}`, `next revision: ${scalar(json.nextRevision ?? null)}`);
      for (const revision of (json.revisions as Record<string, Json>[] | undefined) ?? []) {
        lines.push(
          `revision ${scalar(revision.revision ?? null)}: settlement ${scalar(revision.settlementId ?? null)}, ${revision.active ? 'active' : 'ended'}, ` +
            `required ${scalar(revision.requiredAmount ?? null)}, covered ${scalar(revision.coveredAmount ?? null)}`,
        );
        lines.push(...table('legs', (revision.legs as Json[]) ?? [], ['id', 'kind', 'source', 'sourceChainId', 'transport', 'amount', 'relief', 'status']));
      }
      break;
    case 'message':
      lines.push(...block('message', json.message ?? null), ...block('leg', json.leg ?? null));
      break;
  }
  return `${found.kind}\n${lines.join('\n')}\n`;
}

export const statusCommand: Command = {
  async run(args) {
    const { values, positionals } = parseCommandLine(args, { ...DATABASE_OPTIONS, json: { type: 'boolean' } }, SYNOPSIS, USAGE);
    const [id, ...extra] = positionals;
    if (id === undefined) throw new UsageError(`an ID is required (usage: ${SYNOPSIS})`);
    if (extra.length > 0) throw new UsageError(`one ID at a time, got '${positionals.join(' ')}'`);
    if (!/^0x[0-9a-fA-F]{64}$/.test(id) && !MESSAGE_ID.test(id)) {
      throw new UsageError(`'${id}' is not an id: expected 0x + 64 hex digits, or a Wormhole chain/emitter/sequence`);
    }
    const handle = await openLedger({ target: databaseTargetFrom({ flags: values, env: process.env }), applicationName: 'relayer status' });
    try {
      const found = await findById(handle.db, id);
      if (!found) throw new ConfigError(`nothing in the ledger at ${handle.location} has id ${id}`);
      process.stdout.write(values.json ? `${JSON.stringify({ kind: found.kind, ...(toJson(found.record) as Record<string, Json>) }, null, 2)}\n` : render(found));
      return 0;
    } finally {
      await handle.close();
    }
  },
};
