/** api: the chat HTTP API and WebSocket gateway; writes rows and outbox rows, never publishes on a request. */
import { tracing } from './instrumentation';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { pingDatabase, type DataSource } from '@fleet/db';
import { checkKafka, type KafkaClient } from '@fleet/kafka';
import { type ObjectStore } from '@fleet/object-store';
import { pingRedis, type RedisClient } from '@fleet/redis';
import { runHttpService, type GuardedProducer } from '@fleet/service-kit';
import { AppModule } from './app.module';
import { DATA_SOURCE, GUARDED_PRODUCER, OBJECT_STORE, REDIS_CLIENT } from './app.tokens';
import { configSchema } from './config';
import { configureHttp } from './http/configure-http';
import { replyToFrameworkError } from './http/error.filter';

/**
 * Largest JSON request body; a message is at most 4096 UTF-16 units (≤ 12 KiB of UTF-8 JSON).
 * Upload chunks are not bound by it: their body is never buffered but streamed to the object store,
 * its length checked against the upload's chunk plan (uploads/chunk-body.ts).
 */
const BODY_LIMIT_BYTES = 64 * 1024;

void runHttpService(
  {
    configSchema,
    rootModule: () => AppModule,
    createApplication: (module, options) =>
      NestFactory.create<NestFastifyApplication>(
        module,
        // Requests arriving while closing get our own 503 (configure-http.ts), not Fastify's.
        // Errors of Fastify's router (bad URL, path parameter too long) in our format too.
        new FastifyAdapter({
          bodyLimit: BODY_LIMIT_BYTES,
          return503OnClosing: false,
          frameworkErrors: replyToFrameworkError,
        }),
        // Webhook signatures are computed over the exact bytes received.
        { ...options, rawBody: true },
      ),
    configure: configureHttp,
    listen: (config) => ({ host: config.API_HOST, port: config.API_PORT }),
    readinessChecks: (app) => ({
      postgres: () => pingDatabase(app.get<DataSource>(DATA_SOURCE)),
      kafka: () => checkKafka(app.get<GuardedProducer>(GUARDED_PRODUCER).kafka as KafkaClient),
      redis: () => pingRedis(app.get<RedisClient>(REDIS_CLIENT)),
      minio: () => app.get<ObjectStore>(OBJECT_STORE).ping(),
    }),
  },
  { tracing },
);
