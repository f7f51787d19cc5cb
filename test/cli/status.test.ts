import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerHandle } from '../../db/index.js';
import { buildReportLedger } from '../db/support/report-fixture.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { runCli } from './run-cli.js';

let ledger: LedgerHandle;
let url: string;
let cleanup: () => Promise<void>;
let ids: Awaited<ReturnType<typeof buildReportLedger>>;

beforeAll(async () => {
  const created = await createMigratedLedger();
  ledger = created.ledger;
  url = created.database.url;
  cleanup = created.cleanup;
  ids = await buildReportLedger(ledger.db);
});

afterAll(async () => {
  await cleanup?.();
});

const status = (...args: string[]) => runCli(['status', ...args], { DATABASE_URL: url });

describe('relayer status', () => {
  it('shows a leg with its audit trail as a table', async () => {
    const run = status(ids.t2l0);
    expect(await run.exited).toBe(0);
    const out = run.stdout();
    expect(out.split('\n')[0]).toBe('leg');
    expect(out).toMatch(/status\s+refunded/);
    expect(out).toContain('events (6)');
    expect(out).toMatch(/\n\s+6\s+failed\s+refunded/);
  });

  it('shows a shortfall, and prints JSON with amounts as decimal strings', async () => {
    const run = status(ids.s1, '--json');
    expect(await run.exited).toBe(0);
    const json = JSON.parse(run.stdout()) as { kind: string; shortfall: { requiredAmount: string; status: string }; settlements: string[] };
    expect(json.kind).toBe('shortfall');
    expect(json.shortfall.requiredAmount).toBe('1000000000');
    expect(json.settlements).toHaveLength(1);
    const settlement = status(json.settlements[0] ?? '', '--json');
    expect(await settlement.exited).toBe(0);
    expect((JSON.parse(settlement.stdout()) as { status: string }).status).toBe('settled');
  });

  it('shows every revision of a shortfall with its legs, the latest assessment and the relief in flight', async () => {
    const table = status(ids.s2);
    expect(await table.exited).toBe(0);
    const out = table.stdout();
    expect(out.split('\n')[0]).toBe('shortfall');
    expect(out).toMatch(/latest assessment\n\s+requiredAmount\s+500000000\n/);
    expect(out).toContain('in flight relief: 0');
    expect(out).toContain('next revision: 2');
    expect(out).toMatch(/revision 0: settlement 0x[0-9a-f]{64}, ended, required 500000000, covered 400000000\nlegs \(2\)\n\s+id\s+kind\s+source\s+sourceChainId\s+transport\s+amount\s+relief\s+status\n/);
    expect(out).toMatch(new RegExp(`${ids.t2l1}\\s+liquidity\\s+vault\\s+1003\\s+wormhole\\s+100000000\\s+150000000\\s+failed`));
    expect(out).toMatch(/revision 1: settlement 0x[0-9a-f]{64}, ended, required 100000000, covered 100000000\nlegs \(1\)/);

    const json = status(ids.s3, '--json');
    expect(await json.exited).toBe(0);
    const parsed = JSON.parse(json.stdout()) as { inFlightRelief: string; latestAssessment: { block: string }; revisions: { active: boolean; legs: { relief: string; source: string }[] }[] };
    expect(parsed.inFlightRelief).toBe('1100000000');
    expect(parsed.latestAssessment.block).toBe('100');
    expect(parsed.revisions.map((r) => [r.active, r.legs.map((l) => [l.source, l.relief])])).toEqual([
      [true, [['surplus', '500000000'], ['market', '300000000'], ['vault', '300000000']]],
    ]);
  });

  it('says when nothing has that id, and refuses what is not an id', async () => {
    const unknown = status(`0x${'ab'.repeat(32)}`);
    expect(await unknown.exited).toBe(1);
    expect(unknown.stderr()).toMatch(/nothing in the ledger at .* has id 0xabab/);
    const bad = status('12345');
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/'12345' is not an id/);
  });
});
