import { Global, Module } from '@nestjs/common';
import { createObjectStore, type ObjectStore } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import { fleetClientProviders, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { OBJECT_STORE } from './app.tokens';
import { type Config } from './config';

const clients = fleetClientProviders<Config>({
  database: (config) => ({
    // No migrations: the api's migrate command owns the uploads tables.
    // A few statements per merge, one merge per partition on the main and the retry consumer.
    poolSize: config.FILE_MERGE_PARTITIONS_CONCURRENCY * 2 + 2,
  }),
});

/**
 * PostgreSQL (the api's database: `uploads`, `upload_chunks`) and the Kafka client with the guarded
 * producer the consumer writes its retry and DLQ records with (the service kit's shared clients),
 * and the object store.
 */
@Global()
@Module({
  providers: [
    ...clients.providers,
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
  ],
  exports: [...clients.tokens, OBJECT_STORE],
})
export class ClientsModule {}
