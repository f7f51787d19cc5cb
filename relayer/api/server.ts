import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { Hash } from 'viem';
import type { LedgerDatabase } from '../../db/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { LegActionResult, LegOperator } from '../orchestrator/leg-operator.js';
import { legById, listShortfalls, messageById, settlementById, shortfallById } from '../status/lookup.js';
import { toJson } from '../status/json.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { integerParam } from './query-params.js';
import { ADDRESS, BYTES32, MESSAGE_ID } from './ids.js';

export interface Readiness {
  readonly ready: boolean;
  /** One entry per dependency: Redis, Postgres, each chain's RPC and watcher. */
  readonly checks: Readonly<Record<string, { readonly ok: boolean; readonly detail?: string }>>;
}

export interface ApiOptions {
  readonly ledger: LedgerDatabase;
  /** Chain keys the `chain` filter accepts, with their ids. */
  readonly chains: readonly { readonly key: string; readonly chainId: number }[];
  readonly readiness: () => Promise<Readiness>;
  readonly metrics: Registry;
  /** The queues the dashboard shows; it is mounted only with a token to guard it. */
  readonly queues?: readonly Queue[];
  readonly adminToken?: string;
  /** An operator's retry and cancel of a leg (`POST /v1/legs/:id/retry|cancel`), behind `adminToken`. */
  readonly legOperator?: LegOperator;
  /** Every request (at info) and every 5xx with its full error; silent if absent. */
  readonly log?: Logger;
}

/** Rows per page of a list: `limit`'s default and range. */
const DEFAULT_LIMIT = 50;
const LIMIT_RANGE = { min: 1, max: 500 } as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: BYTES32 } } } as const;

/**
 * The node's HTTP API (DESIGN.md section 8): read-only views of the ledger, health and
 * readiness, Prometheus metrics, and the queue dashboard behind a bearer token. Every
 * parameter is validated, by schema or parsed strictly (query-params.ts: numbers and instants
 * only as the ledger can hold them); a bad one is a 400 naming it, an unknown id a 404, and a
 * failure inside is logged in full but answered only with "Internal Server Error".
 */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  // As fastify's base logger type: the instance keeps FastifyInstance's default type parameters.
  const app = Fastify({ loggerInstance: (options.log ?? silentLogger()) as FastifyBaseLogger, ajv: { customOptions: { coerceTypes: true, removeAdditional: false } } });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      // A parameter the route does not take is named, like a bad value of one it does.
      const unknown = error.validation.map((issue) => (issue.params as { additionalProperty?: unknown }).additionalProperty).find((name) => typeof name === 'string');
      return reply.status(400).send({ statusCode: 400, error: 'Bad Request', message: unknown === undefined ? error.message : `${error.message}: ${unknown}` });
    }
    if ((error.statusCode ?? 500) < 500) return reply.status(error.statusCode ?? 400).send({ statusCode: error.statusCode, error: error.name, message: error.message });
    request.log.error({ at: 'Api::error', method: request.method, url: request.url, err: error }, 'request failed');
    return reply.status(500).send({ statusCode: 500, error: 'Internal Server Error' });
  });
  const notFound = (what: string, id: string) => ({ statusCode: 404, error: 'Not Found', message: `no ${what} ${id}` });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = await options.readiness();
    return reply.status(readiness.ready ? 200 : 503).send(readiness);
  });
  app.get('/metrics', async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.metrics()));

  app.get<{ Params: { id: string } }>('/v1/settlements/:id', { schema: { params: idParams } }, async (request, reply) => {
    const found = await settlementById(options.ledger, request.params.id.toLowerCase() as Hash);
    return found ? toJson(found) : reply.status(404).send(notFound('settlement', request.params.id));
  });
  app.get<{ Params: { id: string } }>('/v1/legs/:id', { schema: { params: idParams } }, async (request, reply) => {
    const found = await legById(options.ledger, request.params.id.toLowerCase() as Hash);
    return found ? toJson(found) : reply.status(404).send(notFound('leg', request.params.id));
  });
  app.get<{ Params: { id: string } }>('/v1/shortfalls/:id', { schema: { params: idParams } }, async (request, reply) => {
    const found = await shortfallById(options.ledger, request.params.id.toLowerCase() as Hash);
    return found ? toJson(found) : reply.status(404).send(notFound('shortfall', request.params.id));
  });
  app.get<{ Params: { '*': string } }>('/v1/messages/*', async (request, reply) => {
    const id = request.params['*'];
    if (!MESSAGE_ID.test(id)) {
      return reply.status(400).send({ statusCode: 400, error: 'Bad Request', message: 'message id must be a LayerZero GUID (0x + 64 hex) or a Wormhole chain/emitter/sequence' });
    }
    const found = await messageById(options.ledger, id.toLowerCase());
    return found ? toJson(found) : reply.status(404).send(notFound('message', id));
  });

  const chainIds = new Map(options.chains.map((chain) => [chain.key, chain.chainId]));
  const badRequest = (message: string) => ({ statusCode: 400, error: 'Bad Request', message });
  app.get<{ Querystring: { chain?: string; account?: string; status?: 'open' | 'closed'; limit?: string; cursor?: string } }>(
    '/v1/shortfalls',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            chain: { type: 'string', minLength: 1 },
            account: { type: 'string', pattern: ADDRESS },
            status: { type: 'string', enum: ['open', 'closed'] },
            // A string, parsed below: the schema's integer coercion takes `1e2`, `0x10` and `Infinity`.
            limit: { type: 'string' },
            cursor: { type: 'string', minLength: 1 },
          },
        },
      },
    },
    async (request, reply) => {
      const { chain, account, status, cursor } = request.query;
      const chainId = chain === undefined ? undefined : (chainIds.get(chain) ?? integerParam(chain, { min: 1, max: Number.MAX_SAFE_INTEGER }));
      if (chain !== undefined && (chainId === undefined || ![...chainIds.values()].includes(chainId))) {
        return reply.status(400).send(badRequest(`querystring/chain must be one of ${[...chainIds.keys()].join(', ')} (or their chain ids)`));
      }
      const limit = request.query.limit === undefined ? DEFAULT_LIMIT : integerParam(request.query.limit, LIMIT_RANGE);
      if (limit === undefined) return reply.status(400).send(badRequest(`querystring/limit must be an integer from ${LIMIT_RANGE.min} to ${LIMIT_RANGE.max}`));
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && !after) return reply.status(400).send(badRequest('querystring/cursor is not a cursor this API issued'));
      const page = await listShortfalls(options.ledger, {
        limit,
        ...(chainId === undefined ? {} : { chainId }),
        ...(account === undefined ? {} : { account }),
        ...(status === undefined ? {} : { status }),
        ...(after === undefined ? {} : { after }),
      });
      return { shortfalls: toJson(page.shortfalls), next: page.next ? encodeCursor(page.next) : null };
    },
  );

  if (options.legOperator) await mountLegActions(app, { operator: options.legOperator, token: options.adminToken });
  if (options.queues && options.adminToken) await mountDashboard(app, { queues: options.queues, token: options.adminToken });
  return app;
}

/** 401 unless the request carries the bearer token (none configured: every request is refused). */
function requireToken(token: string | undefined) {
  // Returning the reply ends the request here: an async hook that only sent it would let the route run too.
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (token !== undefined && request.headers.authorization === `Bearer ${token}`) return undefined;
    const message = token === undefined ? 'operator actions are off: the node has no RELAYER_ADMIN_TOKEN' : 'a bearer token is required';
    return reply.status(401).header('www-authenticate', 'Bearer').send({ statusCode: 401, error: 'Unauthorized', message });
  };
}

/**
 * `POST /v1/legs/:id/retry` and `/cancel`: the token is checked first (so nothing about a leg
 * is told without it), then the id; an unknown leg is a 404, one whose status refuses the action
 * a 409 with that status, a done action 200 with what the ledger recorded.
 */
async function mountLegActions(app: FastifyInstance, params: { operator: LegOperator; token: string | undefined }): Promise<void> {
  const answer = (reply: FastifyReply, id: string, result: LegActionResult) => {
    if (result.outcome === 'not-found') return reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `no leg ${id}` });
    if (result.outcome === 'conflict') return reply.status(409).send({ statusCode: 409, error: 'Conflict', message: result.reason, status: result.status });
    return reply.send(toJson({ status: result.status, action: result.record }));
  };
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireToken(params.token));
    for (const action of ['retry', 'cancel'] as const) {
      scope.post<{ Params: { id: string } }>(`/v1/legs/:id/${action}`, { schema: { params: idParams } }, async (request, reply) => {
        const legId = request.params.id.toLowerCase() as Hash;
        return answer(reply, request.params.id, await params.operator[action]({ legId, operator: `api ${request.ip}` }));
      });
    }
  });
}

/** Bull Board at /admin/queues, answering 401 to any request without the bearer token. */
async function mountDashboard(app: FastifyInstance, params: { queues: readonly Queue[]; token: string }): Promise<void> {
  const adapter = new FastifyAdapter();
  adapter.setBasePath('/admin/queues');
  createBullBoard({ queues: params.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter: adapter });
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireToken(params.token));
    await scope.register(adapter.registerPlugin(), { prefix: '/admin/queues' });
  });
}
