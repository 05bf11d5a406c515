import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { connectDataSource, type DataSource } from '@fleet/db';
import { type FleetProducer } from '@fleet/kafka';
import { createObjectStore, type ObjectStore } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import {
  createGuardedProducer,
  METRICS_REGISTRY,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  type GuardedProducer,
} from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { DATA_SOURCE, FLEET_PRODUCER, GUARDED_PRODUCER, KAFKA_CLIENT, OBJECT_STORE } from './app.tokens';
import { type Config } from './config';

/** Closes the clients after the consumer stopped (Nest runs every module's shutdown hooks in phases). */
@Injectable()
class ClientsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(GUARDED_PRODUCER) private readonly kafka: GuardedProducer,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.kafka.producer.isConnected) await this.kafka.producer.disconnect().catch(() => undefined);
    this.kafka.breaker.shutdown();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * PostgreSQL (the api's database: `uploads`, `upload_chunks`), the object store, and the Kafka
 * client with the guarded producer the consumer writes its retry and DLQ records with.
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
          // No migrations: the api's migrate command owns the uploads tables.
          applicationName: config.SERVICE_NAME,
          // A few statements per merge, one merge per partition on the main and the retry consumer.
          poolSize: config.FILE_MERGE_PARTITIONS_CONCURRENCY * 2 + 2,
          logger,
        }),
    },
    {
      provide: OBJECT_STORE,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: async (config: Config, logger: Logger): Promise<ObjectStore> => {
        const store = createObjectStore(config);
        // The bucket is the fleet's; whichever app starts first creates it. MinIO being away at
        // boot is no reason to crash-loop: readiness reports it, and merges retry until it is back.
        await store.ensureBucket().catch((err: unknown) => {
          logger.warn({ err, bucket: store.bucket }, 'could not ensure the bucket; readiness will report it');
        });
        return store;
      },
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
    ClientsLifecycle,
  ],
  exports: [DATA_SOURCE, OBJECT_STORE, GUARDED_PRODUCER, KAFKA_CLIENT, FLEET_PRODUCER],
})
export class ClientsModule {}
