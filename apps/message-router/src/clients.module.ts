import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createInstagramConnector, createWhatsAppConnector, type ChannelConnector } from '@fleet/channels';
import { type DeliveryChannel } from '@fleet/contracts';
import { connectDataSource, type DataSource } from '@fleet/db';
import { type FleetProducer } from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
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
  CHANNEL_CONNECTORS,
  DATA_SOURCE,
  FLEET_PRODUCER,
  GUARDED_PRODUCER,
  KAFKA_CLIENT,
  REDIS_CLIENT,
} from './app.tokens';
import { type Config } from './config';
import { ROUTER_MIGRATIONS } from './db/migrations';

/** Closes the clients after the consumer stopped (Nest runs every module's shutdown hooks in phases). */
@Injectable()
class ClientsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(GUARDED_PRODUCER) private readonly kafka: GuardedProducer,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.kafka.producer.isConnected) await this.kafka.producer.disconnect().catch(() => undefined);
    this.kafka.breaker.shutdown();
    await closeRedisClient(this.redis);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * PostgreSQL (deliveries + outbox), Redis (dedup fast path), the Kafka client with the guarded
 * producer the consumer writes its retry and DLQ records with, and one connector per channel.
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
          // Listed so `migrate status` and the data source agree; applied only by migrate.js.
          migrations: [...ROUTER_MIGRATIONS],
          applicationName: config.SERVICE_NAME,
          // A claim and a finish per channel per concurrently consumed partition, plus retries,
          // plus one confirmation per partition of the confirmations group.
          poolSize: config.ROUTER_PARTITIONS_CONCURRENCY * 3 + 2,
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
      // No fallback sink: retry and DLQ records must reach Kafka before the offset is committed.
      useFactory: (config: Config, logger: Logger, registry: Registry): GuardedProducer =>
        createGuardedProducer({ config, registry, logger }),
    },
    { provide: KAFKA_CLIENT, inject: [GUARDED_PRODUCER], useFactory: (g: GuardedProducer) => g.kafka },
    {
      provide: FLEET_PRODUCER,
      inject: [GUARDED_PRODUCER],
      useFactory: (g: GuardedProducer): FleetProducer => g.producer,
    },
    {
      provide: CHANNEL_CONNECTORS,
      inject: [SERVICE_CONFIG],
      useFactory: (config: Config): Record<DeliveryChannel, ChannelConnector> => ({
        whatsapp: createWhatsAppConnector({
          baseUrl: config.WHATSAPP_API_BASE_URL,
          apiVersion: config.WHATSAPP_API_VERSION,
          phoneNumberId: config.WHATSAPP_PHONE_NUMBER_ID,
          accessToken: config.WHATSAPP_ACCESS_TOKEN,
          timeoutMs: config.CHANNEL_TIMEOUT_MS,
        }),
        instagram: createInstagramConnector({
          baseUrl: config.INSTAGRAM_API_BASE_URL,
          apiVersion: config.INSTAGRAM_API_VERSION,
          accessToken: config.INSTAGRAM_ACCESS_TOKEN,
          timeoutMs: config.CHANNEL_TIMEOUT_MS,
        }),
      }),
    },
    ClientsLifecycle,
  ],
  exports: [DATA_SOURCE, REDIS_CLIENT, GUARDED_PRODUCER, KAFKA_CLIENT, FLEET_PRODUCER, CHANNEL_CONNECTORS],
})
export class ClientsModule {}
