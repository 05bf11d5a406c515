import { type INestApplication } from '@nestjs/common';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import rateLimit from '@fastify/rate-limit';
import { type HttpServiceContext } from '@fleet/service-kit';
import { type RedisClient } from '@fleet/redis';
import { planChunks } from '@fleet/uploads';
import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { API_METRICS, JWT_VERIFIER, REDIS_CLIENT } from '../app.tokens';
import { resolveAuth } from '../auth/auth.guard';
import { type JwtVerifier } from '../auth/jwt-verifier';
import { type Config } from '../config';
import { registerDocumentBodyParser } from '../create-map-job/document-body';
import { CREATE_STORY_ROUTE } from '../create-story/create-story.controller';
import { CHUNK_ROUTE, registerChunkBodyParser } from '../uploads/chunk-body';
import { ApiError, badRequest } from './api.errors';
import { type ApiMetrics } from './api.metrics';
import { ErrorFilter } from './error.filter';

const WEBHOOK_PATH = '/v1/webhooks/';
/** The body of a webhook request whose JSON did not parse (see the JSON parser below). */
export const UNPARSEABLE_BODY: unique symbol = Symbol('UNPARSEABLE_BODY');

/** Rate-limit key: the user when the token verified, else the client address. */
export function rateLimitKey(request: FastifyRequest): string {
  const auth = request.auth;
  return auth && 'principal' in auth ? `user:${auth.principal.userId}` : `ip:${request.ip}`;
}

/** Upload chunks have a budget of their own (`UPLOAD_CHUNK_RATE_LIMIT_MAX`), counted under this prefix. */
const CHUNKS_KEY = 'chunks:';
const budgetKey = (request: FastifyRequest): string =>
  request.routeOptions.url === CHUNK_ROUTE ? `${CHUNKS_KEY}${rateLimitKey(request)}` : rateLimitKey(request);

/**
 * Everything around the routes, in the order requests meet it: the caller is resolved (`onRequest`),
 * the rate limit applies per user or address (counters in Redis, so replicas share them; upload
 * chunks on a budget of their own), errors become `{ error: … }` bodies, durations are measured by
 * route template (and each request is logged at debug, under its trace), and the OpenAPI document
 * is generated from the controllers at `/docs` (UI) and `/docs/json`.
 */
export async function configureHttp(
  app: INestApplication,
  { config, logger }: HttpServiceContext<Config>,
): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const verifier = app.get<JwtVerifier>(JWT_VERIFIER);
  const metrics = app.get<ApiMetrics>(API_METRICS);
  const redis = app.get<RedisClient>(REDIS_CLIENT);

  app.useGlobalFilters(new ErrorFilter(logger));
  // Our own JSON parser (Fastify's, wrapped) so body errors carry our codes: Nest turns Fastify's
  // parser errors into bare HttpExceptions and loses theirs. Only JSON is accepted (else 415).
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  (app as NestFastifyApplication).useBodyParser('application/json', {}, (request, body, done) => {
    // A webhook's signature is checked before its body is judged (401 beats 400): the handler decides.
    const lenient = request.url.startsWith(WEBHOOK_PATH);
    if (body.length === 0) {
      if (lenient) done(null, UNPARSEABLE_BODY);
      else done(badRequest('EMPTY_BODY', 'request body is empty; expected JSON'), undefined);
      return;
    }
    parseJson(request as FastifyRequest, body as unknown as string, (error, parsed) => {
      if (!error) done(null, parsed);
      else if (lenient) done(null, UNPARSEABLE_BODY);
      else done(badRequest('INVALID_JSON', `request body is not valid JSON: ${error.message}`), undefined);
    });
  });
  // Upload chunks are streamed, never parsed: the largest chunk any upload can be planned with
  // (chunk sizes only grow with the file's size) bounds their Content-Length.
  registerChunkBodyParser(fastify, planChunks(config.UPLOAD_MAX_BYTES, config.UPLOAD_CHUNK_BYTES).chunkSize);
  // Map documents (text/plain, text/markdown) are read only by POST /v1/maps, up to MAP_DOCUMENT_MAX_BYTES.
  registerDocumentBodyParser(fastify, config.MAP_DOCUMENT_MAX_BYTES);
  // A story's content may reach STORY_CONTENT_MAX_BYTES (64 KiB by default, the JSON body limit of
  // every other route): its route takes that plus room for JSON escapes and the other fields; the
  // content's own limit is then checked in bytes (413 STORY_CONTENT_TOO_LARGE).
  fastify.addHook('onRoute', (route) => {
    if (route.url === CREATE_STORY_ROUTE && route.method === 'POST') {
      route.bodyLimit = 2 * config.STORY_CONTENT_MAX_BYTES + 64 * 1024;
    }
  });
  // Graceful shutdown: once Fastify starts closing, requests still arriving on kept-alive
  // connections get a 503 in our format, and every response closes its connection, so the
  // listener's close completes as soon as in-flight requests are answered.
  let closing = false;
  fastify.addHook('preClose', async () => {
    closing = true;
    fastify.server.closeIdleConnections();
  });
  fastify.addHook('onRequest', async () => {
    if (closing)
      throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'shutting down; retry', undefined, {
        'retry-after': '1',
      });
  });
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  fastify.addHook('onRequest', async (request) => resolveAuth(verifier, request));
  await (app as NestFastifyApplication).register(rateLimit, {
    global: true,
    max: (_request: FastifyRequest, key: string) =>
      key.startsWith(CHUNKS_KEY) ? config.UPLOAD_CHUNK_RATE_LIMIT_MAX : config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    redis,
    nameSpace: `${config.SERVICE_NAME}:rate-limit:`,
    // Redis unreachable: serve rather than fail every request; readiness reports the outage.
    skipOnError: true,
    keyGenerator: budgetKey,
    // Meta delivers webhooks from a few addresses at its own pace; they are signed, not per user.
    allowList: (request: FastifyRequest) => request.url.startsWith(WEBHOOK_PATH),
    errorResponseBuilder: (_request: FastifyRequest, context: { max: number; after: string; ttl: number }) =>
      Object.assign(
        new ApiError(
          429,
          'RATE_LIMITED',
          `rate limit of ${context.max} requests per ${context.after} exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`,
        ),
        { statusCode: 429 },
      ),
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    // The request's line in the logs of its trace (the http span is still the active one here):
    // the route template and its params, never the URL, whose query may carry an access token.
    const auth = request.auth;
    logger.debug(
      {
        method: request.method,
        route,
        params: request.params,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime),
        ...(auth && 'principal' in auth ? { userId: auth.principal.userId } : {}),
      },
      'request handled',
    );
  });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('fleet api')
      .setDescription(
        'Chat messaging: conversations, messages (accepted through the transactional outbox), delivery ' +
          'statuses, live events over WebSocket (`GET /v1/conversations/{id}/events`, not an OpenAPI ' +
          'operation) and channel status webhooks; chunked file uploads (chunks streamed to the object ' +
          'store, merged by file-merge, downloaded through presigned URLs); the job platform: stories with ' +
          'their LLM enhancement job, map generation from a document, jobs (status, stats, cancel) and their ' +
          'progress (`GET /v1/jobs/{id}/events` as SSE or WebSocket, `GET /v1/jobs/events` WebSocket). Every error is ' +
          '`{ error: { code, message, details? } }`.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json', yamlDocumentUrl: 'docs/yaml' });
}
