import { Inject, Injectable, Optional, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { connectDataSource, type DataSource, type DbOptions } from '@fleet/db';
import { createObjectStore, type ObjectStore, type ObjectStoreConfig } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import { closeRedisClient, createRedisClient, type RedisClient } from '@fleet/redis';
import { type Registry } from 'prom-client';
import { createGuardedProducer, type GuardedProducer, type KafkaProducerEnv } from './kafka-producer';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from './tokens';

/** DI tokens of the clients {@link fleetClientProviders} builds once per app. */
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
/** The Kafka client, breaker and producer built together by `createGuardedProducer`. */
export const GUARDED_PRODUCER = Symbol('GUARDED_PRODUCER');
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
export const KAFKA_BREAKER = Symbol('KAFKA_BREAKER');
export const FLEET_PRODUCER = Symbol('FLEET_PRODUCER');
/** The fleet's bucket (`ObjectStore` of `@fleet/object-store`). */
export const OBJECT_STORE = Symbol('OBJECT_STORE');

/** What the shared clients read from an app's validated config. */
export type ClientsConfig = KafkaProducerEnv & {
  SERVICE_NAME: string;
  DATABASE_URL?: string;
  DATABASE_SCHEMA?: string;
  REDIS_URL?: string;
};

export interface FleetClientsOptions<C extends ClientsConfig> {
  /** A PostgreSQL pool on `DATABASE_URL` / `DATABASE_SCHEMA`: its entities, migrations and size. */
  database?: (config: C) => Pick<DbOptions, 'entities' | 'migrations' | 'poolSize'>;
  /** A Redis client on `REDIS_URL`. */
  redis?: boolean;
  /**
   * The object store (`MINIO_*`), its bucket created at boot. `required`: a bucket that cannot be
   * ensured fails the start; `best-effort`: logged, readiness reports it and the work retries.
   */
  objectStore?: 'required' | 'best-effort';
}

/**
 * Closes the shared clients in Nest's last shutdown phase, after the app's own hooks have stopped
 * its consumers and listeners: the producer first (its last records flushed), then Redis, then
 * the pool.
 */
@Injectable()
class FleetClientsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(GUARDED_PRODUCER) private readonly kafka: GuardedProducer,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: RedisClient,
    @Optional() @Inject(DATA_SOURCE) private readonly dataSource?: DataSource,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.kafka.producer.isConnected) await this.kafka.producer.disconnect().catch(() => undefined);
    this.kafka.breaker.shutdown();
    if (this.redis) await closeRedisClient(this.redis);
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * The clients most apps share, as Nest providers: the guarded Kafka producer (client, breaker and
 * producer; no fallback sink, so retry and DLQ records reach Kafka before an offset is committed)
 * and, when asked for, a PostgreSQL pool and a Redis client; closed in order at shutdown. Spread
 * `providers` into the app's global clients module and export `tokens`.
 */
export function fleetClientProviders<C extends ClientsConfig>(
  options: FleetClientsOptions<C> = {},
): { providers: Provider[]; tokens: symbol[] } {
  const providers: Provider[] = [
    {
      provide: GUARDED_PRODUCER,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, METRICS_REGISTRY],
      useFactory: (config: C, logger: Logger, registry: Registry): GuardedProducer =>
        createGuardedProducer({ config, registry, logger }),
    },
    { provide: KAFKA_CLIENT, inject: [GUARDED_PRODUCER], useFactory: (g: GuardedProducer) => g.kafka },
    { provide: KAFKA_BREAKER, inject: [GUARDED_PRODUCER], useFactory: (g: GuardedProducer) => g.breaker },
    { provide: FLEET_PRODUCER, inject: [GUARDED_PRODUCER], useFactory: (g: GuardedProducer) => g.producer },
    FleetClientsLifecycle,
  ];
  const tokens = [GUARDED_PRODUCER, KAFKA_CLIENT, KAFKA_BREAKER, FLEET_PRODUCER];
  const { database } = options;
  if (database) {
    providers.push({
      provide: DATA_SOURCE,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: (config: C, logger: Logger): Promise<DataSource> =>
        connectDataSource({
          url: required(config.DATABASE_URL, 'DATABASE_URL'),
          schema: config.DATABASE_SCHEMA,
          applicationName: config.SERVICE_NAME,
          logger,
          ...database(config),
        }),
    });
    tokens.push(DATA_SOURCE);
  }
  if (options.redis) {
    providers.push({
      provide: REDIS_CLIENT,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: (config: C, logger: Logger): RedisClient =>
        createRedisClient({
          url: required(config.REDIS_URL, 'REDIS_URL'),
          connectionName: config.SERVICE_NAME,
          logger,
        }),
    });
    tokens.push(REDIS_CLIENT);
  }
  const { objectStore } = options;
  if (objectStore) {
    providers.push({
      provide: OBJECT_STORE,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: async (config: C & ObjectStoreConfig, logger: Logger): Promise<ObjectStore> => {
        const store = createObjectStore(config);
        // The bucket is the fleet's; whichever app starts first creates it.
        try {
          await store.ensureBucket();
          logger.info({ bucket: store.bucket, endpoint: config.MINIO_ENDPOINT }, 'object store bucket ready');
        } catch (err) {
          if (objectStore === 'required') throw err;
          logger.warn({ err, bucket: store.bucket }, 'could not ensure the bucket; readiness will report it');
        }
        return store;
      },
    });
    tokens.push(OBJECT_STORE);
  }
  return { providers, tokens };
}

function required(value: string | undefined, name: string): string {
  // The app's config schema validates it at boot; reaching here without it is a wiring mistake.
  if (!value) throw new Error(`${name} is required by the clients this app asked for`);
  return value;
}
