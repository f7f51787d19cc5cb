import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { messages, recordMessage, settlements, type LedgerHandle } from '../../db/index.js';
import { buildApi, type Readiness } from '../../relayer/api/server.js';
import { countingFetch } from '../../chains/rpc-errors.js';
import { createNodeMetrics, type NodeMetrics } from '../../relayer/metrics/node-metrics.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { SeededRandom } from '../../relayer/seeded-random.js';
import { ALPHA, BETA, GAMMA, accountOf, hashOf } from '../db/support/fixtures.js';
import { buildReportLedger } from '../db/support/report-fixture.js';
import { createMigratedLedger } from '../db/support/test-database.js';

let ledger: LedgerHandle;
let cleanup: () => Promise<void>;
let ids: Awaited<ReturnType<typeof buildReportLedger>>;
let app: FastifyInstance;
let connection: Redis;
let queue: Queue;
let metrics: NodeMetrics;
let readiness: Readiness = { ready: true, checks: { postgres: { ok: true } } };
const TOKEN = 'test-admin-token';

beforeAll(async () => {
  const created = await createMigratedLedger();
  ledger = created.ledger;
  cleanup = created.cleanup;
  ids = await buildReportLedger(ledger.db);
  connection = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  queue = new Queue('shortfalls', { connection, prefix: `api-${randomBytes(4).toString('hex')}` });
  metrics = createNodeMetrics({ ledger: ledger.db, queues: [queue], defaults: false, chainKeys: new Map([[ALPHA, 'alpha']]), watchers: () => [{ chain: 'alpha', lag: 2n }] });
  // A call to a port nobody listens on: one RPC failure on alpha.
  await countingFetch(ALPHA)('http://127.0.0.1:1/').catch(() => undefined);
  app = await buildApi({
    ledger: ledger.db,
    chains: [
      { key: 'alpha', chainId: ALPHA },
      { key: 'beta', chainId: BETA },
      { key: 'gamma', chainId: GAMMA },
    ],
    readiness: async () => readiness,
    metrics: metrics.registry,
    queues: [queue],
    adminToken: TOKEN,
  });
});

afterAll(async () => {
  metrics?.close();
  await app?.close();
  await queue?.obliterate({ force: true });
  await queue?.close();
  connection?.disconnect();
  await cleanup?.();
});

/** A cursor as the API encodes one, at `t` (any string), after a shortfall id. */
const cursorAt = (t: string, id = `0x${'ab'.repeat(32)}`) => Buffer.from(JSON.stringify({ t, id })).toString('base64url');
const decodedCursor = (text: string): { t?: unknown; id?: unknown } | undefined => {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as { t?: unknown; id?: unknown }) : undefined;
  } catch {
    return undefined;
  }
};

const hex = (r: SeededRandom, length: number) => Array.from({ length }, () => '0123456789abcdefABCDEF'[r.int(0, 21)]).join('');
const ALPHABET = ['0', '1', '5', '9', '-', '+', '.', 'e', 'E', 'x', 'a', 'Z', ' ', '%', '&', '=', '#', '/', '?', '\u0000', 'é', '∞', '😀', 'Infinity', 'NaN', 'null', 'true', '[]', '{}'];
/** A string of 0 to 12 pieces of ALPHABET. */
const randomText = (r: SeededRandom) => Array.from({ length: r.int(0, 12) }, () => ALPHABET[r.int(0, ALPHABET.length - 1)]).join('');
/** Something a number parser might take: signs, digits, fractions, exponents, hex, the non-finite. */
function numberLike(r: SeededRandom): string {
  const digits = Array.from({ length: r.int(1, r.chance(0.1) ? 400 : 4) }, () => String(r.int(0, 9))).join('');
  switch (r.int(0, 6)) {
    case 0:
      return digits;
    case 1:
      return `${r.pick(['-', '+', ' ', ''])}${digits}${r.pick(['', '.0', '.5', ' '])}`;
    case 2:
      return `${digits}e${r.pick(['', '-', '+'])}${r.int(0, 400)}`;
    case 3:
      return `0x${hex(r, r.int(1, 4))}`;
    case 4:
      return r.pick(['Infinity', '-Infinity', 'NaN', '-0', '0', '1e309', '5e-324', '9007199254740993', '0b101', '0o7']);
    default:
      return String(r.int(-10, 600));
  }
}
/** A cursor: one encoding any instant a JavaScript Date holds (many past Postgres), a mangled one, or no cursor at all. */
function randomCursor(r: SeededRandom): string {
  const iso = new Date(Math.round(r.between(-8.64e15, 8.64e15))).toISOString();
  const id = r.chance(0.8) ? `0x${hex(r, 64).toLowerCase()}` : randomText(r);
  switch (r.int(0, 4)) {
    case 0:
    case 1:
      return cursorAt(iso, id);
    case 2:
      return cursorAt(r.chance(0.5) ? iso.replace(/-[0-9]{2}T/, `-${r.int(28, 39)}T`) : randomText(r), id);
    case 3:
      return Buffer.from(randomText(r)).toString('base64url');
    default:
      return randomText(r);
  }
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const response = await app.inject({ method: 'GET', url, headers });
  return { status: response.statusCode, body: response.headers['content-type']?.toString().includes('json') ? (response.json() as Record<string, unknown>) : response.body, headers: response.headers };
};

describe('the HTTP API', () => {
  it('GET /v1/settlements/:id: the plan, its status from the report, legs with amounts as decimal strings', async () => {
    const [settlement] = await ledger.db.select().from(settlements).where(eq(settlements.shortfallId, ids.s1));
    const { status, body } = await get(`/v1/settlements/${settlement?.id}`);
    expect(status).toBe(200);
    const json = body as { status: string; settlement: { requiredAmount: string }; legs: { id: string; amount: string; status: string }[] };
    expect(json.status).toBe('settled');
    expect(json.settlement.requiredAmount).toBe('1000000000');
    expect(json.legs.map((l) => [l.id, l.amount, l.status])).toEqual([
      [ids.t1l0, '600000000', 'credited'],
      [ids.t1l1, '400000000', 'credited'],
    ]);
  });

  it('GET /v1/legs/:id: the leg and every event of its audit trail, in order', async () => {
    const { status, body } = await get(`/v1/legs/${ids.t2l0}`);
    expect(status).toBe(200);
    const json = body as { leg: { status: string }; events: { toStatus: string }[] };
    expect(json.leg.status).toBe('refunded');
    expect(json.events.map((e) => e.toStatus)).toEqual(['planned', 'submitted', 'sent', 'verified', 'failed', 'refunded']);
  });

  it('GET /v1/messages/:id by LayerZero GUID and by Wormhole chain/emitter/sequence', async () => {
    await recordMessage(ledger.db, { ref: { transport: 'layerzero', guid: hashOf('guid 1') }, sourceChainId: BETA, destinationChainId: ALPHA, legId: ids.t1l0, amount: 600_000_000n, sourceTxHash: hashOf('tx 1'), sourceBlock: 10n });
    await recordMessage(ledger.db, { ref: { transport: 'wormhole', emitterChain: 5, emitter: `0x${'0e'.repeat(32)}`, sequence: 7n }, sourceChainId: GAMMA, destinationChainId: ALPHA, legId: ids.t1l1, amount: 400_000_000n, sourceTxHash: hashOf('tx 2'), sourceBlock: 11n });
    const rows = await ledger.db.select().from(messages);
    const lz = rows.find((m) => m.transport === 'layerzero');
    const wh = rows.find((m) => m.transport === 'wormhole');
    if (!lz || !wh) throw new Error('no messages recorded');
    const byGuid = await get(`/v1/messages/${lz.id}`);
    expect(byGuid.status).toBe(200);
    expect((byGuid.body as { message: { id: string } }).message.id).toBe(lz.id);
    expect(wh.id).toMatch(/^\d+\/[0-9a-f]{64}\/\d+$/);
    const byVaa = await get(`/v1/messages/${wh.id}`);
    expect(byVaa.status).toBe(200);
    expect((byVaa.body as { message: { transport: string }; leg: { id: string } }).leg.id).toBe(ids.t1l1);
  });

  it('GET /v1/shortfalls/:id: every revision with its legs, the latest assessment and the relief in flight', async () => {
    type Body = {
      shortfall: { id: string; status: string; requiredAmount: string };
      settlements: string[];
      latestAssessment: Record<string, unknown>;
      inFlightRelief: string;
      nextRevision: number;
      revisions: { revision: number; settlementId: string; active: boolean; coveredAmount: string; legs: Record<string, unknown>[] }[];
    };
    // S2: two revisions, both ended (refunded, failed; failed): nothing in flight.
    const s2 = await get(`/v1/shortfalls/${ids.s2.toUpperCase().replace('0X', '0x')}`);
    expect(s2.status).toBe(200);
    const closed = s2.body as Body;
    expect(closed.shortfall).toMatchObject({ id: ids.s2, status: 'closed', requiredAmount: '500000000' });
    expect(closed.settlements).toEqual(closed.revisions.map((r) => r.settlementId));
    expect(closed.revisions.map((r) => [r.revision, r.active, r.coveredAmount])).toEqual([[0, false, '400000000'], [1, false, '100000000']]);
    expect(closed.revisions[0]?.legs).toEqual([
      { id: ids.t2l0, index: 0, kind: 'collateral', sourceChainId: BETA, source: 'surplus', destinationChainId: ALPHA, transport: 'layerzero', amount: '300000000', relief: '300000000', status: 'refunded' },
      { id: ids.t2l1, index: 1, kind: 'liquidity', sourceChainId: GAMMA, source: 'vault', destinationChainId: ALPHA, transport: 'wormhole', amount: '100000000', relief: '150000000', status: 'failed' },
    ]);
    expect(closed.revisions[1]?.legs.map((l) => [l.id, l.status])).toEqual([[ids.t4l0, 'failed']]);
    expect(closed).toMatchObject({ inFlightRelief: '0', nextRevision: 2 });

    // S3: open, one revision under way; in flight 500 (collateral) + 300 (local) + 300 (liquidity's relief, not its 200).
    const open = (await get(`/v1/shortfalls/${ids.s3}`)).body as Body;
    expect(open.latestAssessment).toEqual({ requiredAmount: '1000000000', equity: '50000000', maintenance: '140000000', mEff: null, targetFractions: {}, sigmas: {}, block: '100', at: '2025-03-01T09:00:00.000Z' });
    expect(open).toMatchObject({ inFlightRelief: '1100000000', nextRevision: 1 });
    expect(open.revisions).toHaveLength(1);
    expect(open.revisions[0]?.active).toBe(true);
    expect(open.revisions[0]?.legs.map((l) => [l.id, l.kind, l.source, l.transport, l.amount, l.relief, l.status])).toEqual([
      [ids.t3l0, 'collateral', 'surplus', 'layerzero', '500000000', '500000000', 'delivered'],
      [ids.t3l1, 'local', 'market', null, '300000000', '300000000', 'planned'],
      [ids.t3l2, 'liquidity', 'vault', 'layerzero', '200000000', '300000000', 'delivered'],
    ]);
  });

  it('GET /v1/shortfalls filters by chain, account and status, and pages with a cursor', async () => {
    const all = await get('/v1/shortfalls');
    expect((all.body as { shortfalls: unknown[] }).shortfalls).toHaveLength(3);
    const alpha = await get('/v1/shortfalls?chain=alpha');
    expect((alpha.body as { shortfalls: { id: string }[] }).shortfalls.map((s) => s.id).sort()).toEqual([ids.s1, ids.s2].sort());
    const byId = await get(`/v1/shortfalls?chain=${BETA}&status=open`);
    expect((byId.body as { shortfalls: { id: string }[] }).shortfalls.map((s) => s.id)).toEqual([ids.s3]);
    const account = await get(`/v1/shortfalls?account=${accountOf(2)}`);
    expect((account.body as { shortfalls: { id: string }[] }).shortfalls.map((s) => s.id)).toEqual([ids.s2]);

    const first = (await get('/v1/shortfalls?limit=2')).body as { shortfalls: { id: string }[]; next: string };
    expect(first.shortfalls).toHaveLength(2);
    const second = (await get(`/v1/shortfalls?limit=2&cursor=${first.next}`)).body as { shortfalls: { id: string }[]; next: string | null };
    expect(second.shortfalls).toHaveLength(1);
    expect(second.next).toBeNull();
    expect(new Set([...first.shortfalls, ...second.shortfalls].map((s) => s.id)).size).toBe(3);
  });

  it.each([
    ['/v1/settlements/0x1234', /params\/id must match pattern/],
    ['/v1/legs/not-a-hash', /params\/id must match pattern/],
    ['/v1/shortfalls/0xnothex', /params\/id must match pattern/],
    ['/v1/messages/12/abc/3', /message id must be a LayerZero GUID/],
    ['/v1/shortfalls?limit=0', /querystring\/limit must be an integer from 1 to 500/],
    ['/v1/shortfalls?limit=ten', /querystring\/limit must be an integer from 1 to 500/],
    ['/v1/shortfalls?status=pending', /querystring\/status must be equal to one of the allowed values/],
    ['/v1/shortfalls?account=0xabc', /querystring\/account must match pattern/],
    ['/v1/shortfalls?chain=delta', /querystring\/chain must be one of alpha, beta, gamma/],
    ['/v1/shortfalls?cursor=garbage', /querystring\/cursor is not a cursor this API issued/],
    ['/v1/shortfalls?colour=red', /must NOT have additional properties: colour$/],
    ['/v1/shortfalls?limit=1&limit=2', /querystring\/limit must be string/],
  ])('GET %s is a 400 naming what is wrong', async (url, message) => {
    const { status, body } = await get(url);
    expect(status).toBe(400);
    expect((body as { message: string }).message).toMatch(message);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it.each(['Infinity', '-Infinity', 'NaN', '1e400', '1e2', '0x10', '0b11', '+5', '-1', '-0', '5.0', ' 5', '501', '9007199254740993', '99999999999999999999', ''])(
    'GET /v1/shortfalls?limit=%s is a 400 naming limit: only decimal digits from 1 to 500',
    async (limit) => {
      const { status, body } = await get(`/v1/shortfalls?limit=${encodeURIComponent(limit)}`);
      expect(status).toBe(400);
      expect((body as { message: string }).message).toBe('querystring/limit must be an integer from 1 to 500');
    },
  );

  it.each(['1', '500', '0002'])('GET /v1/shortfalls?limit=%s is a page of at most that many', async (limit) => {
    const { status, body } = await get(`/v1/shortfalls?limit=${limit}`);
    expect(status).toBe(200);
    expect((body as { shortfalls: unknown[] }).shortfalls).toHaveLength(Math.min(3, Number(limit)));
  });

  it.each([
    // Past what a JavaScript Date holds, before what Postgres does, not a day, not toISOString's form.
    '+275760-09-13T00:00:00.001Z',
    '-004713-11-23T23:59:59.999Z',
    '-271821-04-20T00:00:00.000Z',
    '2025-02-30T00:00:00.000Z',
    '2025-03-01',
    '1',
    'Sat, 01 Mar 2025 00:00:00 GMT',
    '+002025-03-01T00:00:00.000Z',
  ])('GET /v1/shortfalls with a cursor at %s is a 400 naming cursor', async (t) => {
    const { status, body } = await get(`/v1/shortfalls?cursor=${cursorAt(t)}`);
    expect(status).toBe(400);
    expect((body as { message: string }).message).toBe('querystring/cursor is not a cursor this API issued');
  });

  it.each([
    ['+275760-09-13T00:00:00.000Z', 3],
    ['+010000-01-01T00:00:00.000Z', 3],
    ['0000-01-01T00:00:00.000Z', 0],
    ['-004713-11-24T00:00:00.000Z', 0],
  ])('GET /v1/shortfalls with a cursor at %s, which Postgres and JavaScript both hold, is the page before it', async (t, count) => {
    const { status, body } = await get(`/v1/shortfalls?cursor=${cursorAt(t)}`);
    expect(status).toBe(200);
    expect((body as { shortfalls: unknown[] }).shortfalls).toHaveLength(count);
  });

  it('answers random strings in every query parameter with a 200 for a valid value and else a 400 naming the parameter, never a 5xx', async () => {
    const random = new SeededRandom(19);
    const chains = new Map([['alpha', ALPHA], ['beta', BETA], ['gamma', GAMMA]]);
    const known = new Set(chains.values());
    // Independent of the API's parsing: what each parameter should accept.
    const valid: Record<string, (value: string) => boolean> = {
      limit: (value) => /^[0-9]+$/.test(value) && Number(value) >= 1 && Number(value) <= 500,
      chain: (value) => chains.has(value) || (/^[0-9]+$/.test(value) && known.has(Number(value))),
      status: (value) => value === 'open' || value === 'closed',
      account: (value) => /^0x[0-9a-fA-F]{40}$/.test(value),
      cursor: (value) => {
        const decoded = decodedCursor(value);
        if (!decoded || typeof decoded.t !== 'string' || !/^0x[0-9a-f]{64}$/.test(String(decoded.id))) return false;
        const time = new Date(decoded.t).getTime();
        return Number.isFinite(time) && new Date(time).toISOString() === decoded.t && time >= Date.UTC(-4713, 10, 24) && time <= 8.64e15;
      },
    };
    const values: Record<string, (r: SeededRandom) => string> = {
      limit: (r) => (r.chance(0.5) ? numberLike(r) : randomText(r)),
      chain: (r) => (r.chance(0.3) ? String(r.pick([...chains.keys(), ...[...known].map(String)])) + (r.chance(0.5) ? ([...randomText(r)][0] ?? '') : '') : r.chance(0.5) ? numberLike(r) : randomText(r)),
      status: (r) => (r.chance(0.3) ? r.pick(['open', 'closed', 'Open', 'open ', 'closed\u0000']) : randomText(r)),
      account: (r) => (r.chance(0.4) ? `0x${hex(r, r.int(38, 42))}` : randomText(r)),
      cursor: (r) => randomCursor(r),
    };
    const seen = { accepted: 0, refused: 0 };
    for (const [name, generate] of Object.entries(values)) {
      for (let i = 0; i < 250; i += 1) {
        const value = generate(random);
        const { status, body } = await get(`/v1/shortfalls?${name}=${encodeURIComponent(value)}`);
        const label = `${name}=${JSON.stringify(value)}`;
        expect([label, status]).toEqual([label, valid[name]?.(value) ? 200 : 400]);
        if (status === 400) expect([label, (body as { message: string }).message]).toEqual([label, expect.stringMatching(new RegExp(`^querystring/${name} `))]);
        seen[status === 200 ? 'accepted' : 'refused'] += 1;
      }
    }
    // Both sides were exercised, for the run to mean something.
    expect(seen.accepted).toBeGreaterThan(100);
    expect(seen.refused).toBeGreaterThan(500);
  });

  it.each([`/v1/settlements/0x${'ab'.repeat(32)}`, `/v1/legs/0x${'ab'.repeat(32)}`, `/v1/shortfalls/0x${'ab'.repeat(32)}`, `/v1/messages/0x${'ab'.repeat(32)}`, `/v1/messages/2/${'cd'.repeat(32)}/7`])(
    'GET %s for an unknown id is a 404',
    async (url) => {
      const { status, body } = await get(url);
      expect(status).toBe(404);
      expect((body as { error: string }).error).toBe('Not Found');
    },
  );

  it('answers /healthz always and /readyz with 503 naming the dependency that is down', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    readiness = { ready: false, checks: { postgres: { ok: true }, 'rpc:beta': { ok: false, detail: 'timeout after 2000 ms' } } };
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    expect((down.body as unknown as Readiness).checks['rpc:beta']).toEqual({ ok: false, detail: 'timeout after 2000 ms' });
    readiness = { ready: true, checks: { postgres: { ok: true } } };
  });

  it('exports Prometheus metrics, with ledger gauges read at scrape time', async () => {
    const { status, body, headers } = await get('/metrics');
    expect(status).toBe(200);
    expect(String(headers['content-type'])).toContain('text/plain');
    const text = String(body);
    expect(text).toContain('relayer_shortfalls{chain="alpha",status="closed"} 2');
    expect(text).toContain('relayer_shortfalls{chain="beta",status="open"} 1');
    expect(text).toContain('relayer_rpc_errors_total{chain="alpha"} 1');
    expect(text).toContain('relayer_watcher_head_lag_blocks{chain="alpha"} 2');
    expect(text).toContain('relayer_legs{status="credited",transport="wormhole"} 1');
    expect(text).toContain('relayer_settlements{status="settled"} 1');
    expect(text).toMatch(/relayer_queue_jobs\{queue="shortfalls",state="waiting"\} 0/);
  });

  it('guards the queue dashboard with the bearer token', async () => {
    expect((await get('/admin/queues')).status).toBe(401);
    expect((await get('/admin/queues', { authorization: 'Bearer wrong' })).status).toBe(401);
    const allowed = await get('/admin/queues', { authorization: `Bearer ${TOKEN}` });
    expect(allowed.status).toBe(200);
    const api = await get('/admin/queues/api/queues', { authorization: `Bearer ${TOKEN}` });
    expect(api.status).toBe(200);
    expect(JSON.stringify(api.body)).toContain('shortfalls');
  });
});
