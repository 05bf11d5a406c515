import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { connectDataSource, type DataSource } from '@fleet/db';
import { createObjectStore, type ObjectStore } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import { OUTBOX_ENTITIES } from '@fleet/outbox';
import { closeRedisClient, createRedisClient, type RedisClient } from '@fleet/redis';
import {
  createGuardedProducer,
  METRICS_REGISTRY,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  type GuardedProducer,
} from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import {
  API_METRICS,
  DATA_SOURCE,
  GUARDED_PRODUCER,
  JWT_VERIFIER,
  OBJECT_STORE,
  REDIS_CLIENT,
} from './app.tokens';
import { loadOrCreateDevKeys } from './auth/dev-keys';
import { JwtVerifier, readKeySource } from './auth/jwt-verifier';
import { API_ENTITIES } from './chat/chat.entities';
import { type Config } from './config';
import { apiMetrics } from './http/api.metrics';
import { API_MIGRATIONS } from './migrations';

/**
 * Closes the clients in Nest's last phase, after the HTTP listener has finished its in-flight
 * requests and the status consumer has stopped (both happen earlier in `app.close()`).
 */
@Injectable()
class ClientsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(GUARDED_PRODUCER) private readonly kafka: GuardedProducer,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.kafka.producer.isConnected) await this.kafka.producer.disconnect();
    this.kafka.breaker.shutdown();
    await closeRedisClient(this.redis);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * PostgreSQL (the chat and upload tables and the outbox, one pool), Redis (pub/sub publishes), the
 * guarded Kafka producer (only the status consumer's retry and DLQ records: requests never
 * publish), MinIO (upload chunks; the bucket is created at boot), the JWT verifier and the app's
 * metrics.
 */
@Global()
@Module({
  providers: [
    {
      provide: DATA_SOURCE,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: (config: Config, logger: Logger): Promise<DataSource> =>
        connectDataSource({
          url: config.DATABASE_URL,
          schema: config.DATABASE_SCHEMA,
          entities: [...OUTBOX_ENTITIES, ...API_ENTITIES],
          migrations: API_MIGRATIONS,
          applicationName: config.SERVICE_NAME,
          poolSize: config.DATABASE_POOL_SIZE,
          logger,
        }),
    },
    {
      provide: REDIS_CLIENT,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: (config: Config, logger: Logger): RedisClient =>
        createRedisClient({ url: config.REDIS_URL, connectionName: config.SERVICE_NAME, logger }),
    },
    {
      provide: GUARDED_PRODUCER,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, METRICS_REGISTRY],
      useFactory: (config: Config, logger: Logger, registry: Registry): GuardedProducer =>
        createGuardedProducer({ config, registry, logger }),
    },
    {
      provide: JWT_VERIFIER,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: async (config: Config, logger: Logger): Promise<JwtVerifier> => {
        const keys = readKeySource(config);
        if (config.AUTH_DEV_KEY_DIR) {
          keys.jwks = (await loadOrCreateDevKeys(config.AUTH_DEV_KEY_DIR)).jwks;
          logger.warn(
            { dir: config.AUTH_DEV_KEY_DIR },
            'trusting the local dev key pair (AUTH_DEV_KEY_DIR): local use only',
          );
        }
        return new JwtVerifier({
          algorithms: config.AUTH_JWT_ALGORITHMS,
          issuer: config.AUTH_JWT_ISSUER,
          audience: config.AUTH_JWT_AUDIENCE,
          clockToleranceS: config.AUTH_CLOCK_TOLERANCE_S,
          keys,
        });
      },
    },
    {
      provide: OBJECT_STORE,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: async (config: Config, logger: Logger): Promise<ObjectStore> => {
        const store = createObjectStore(config);
        // At boot, so a missing bucket is a failed start (exit 1, restarted) rather than a 500 on
        // the first chunk; readiness keeps checking it afterwards.
        await store.ensureBucket();
        logger.info({ bucket: store.bucket, endpoint: config.MINIO_ENDPOINT }, 'object store bucket ready');
        return store;
      },
    },
    {
      provide: API_METRICS,
      inject: [METRICS_REGISTRY],
      useFactory: (registry: Registry) => apiMetrics(registry),
    },
    ClientsLifecycle,
  ],
  exports: [DATA_SOURCE, REDIS_CLIENT, GUARDED_PRODUCER, JWT_VERIFIER, OBJECT_STORE, API_METRICS],
})
export class ClientsModule {}
