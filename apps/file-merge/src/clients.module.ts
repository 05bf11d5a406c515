import { Global, Module } from '@nestjs/common';
import { fleetClientProviders } from '@fleet/service-kit';
import { type Config } from './config';

const clients = fleetClientProviders<Config>({
  database: (config) => ({
    // No migrations: the api's migrate command owns the uploads tables.
    // A few statements per merge, one merge per partition on the main and the retry consumer.
    poolSize: config.FILE_MERGE_PARTITIONS_CONCURRENCY * 2 + 2,
  }),
  // MinIO being away at boot is no reason to crash-loop: readiness reports it, and merges retry.
  objectStore: 'best-effort',
});

/**
 * PostgreSQL (the api's database: `uploads`, `upload_chunks`) and the Kafka client with the guarded
 * producer the consumer writes its retry and DLQ records with (the service kit's shared clients),
 * and the object store.
 */
@Global()
@Module({
  providers: [...clients.providers],
  exports: [...clients.tokens],
})
export class ClientsModule {}
