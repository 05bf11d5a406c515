import { Global, Module } from '@nestjs/common';
import { LlmClient, llmOptionsFromEnv } from '@fleet/llm';
import { type Logger } from '@fleet/observability';
import { fleetClientProviders, METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { LLM_CLIENT } from './app.tokens';
import { type Config } from './config';

const clients = fleetClientProviders<Config>({
  database: (config) => ({
    // No migrations: the api's migrate command owns the jobs and stories tables.
    // Per job: its statements, the lease renewals beside them; plus the reaper.
    poolSize: config.WORKER_CONCURRENCY * 2 + 3,
  }),
  // Progress events: the per-job stream and the pub/sub channels.
  redis: true,
  // MinIO being away at boot is no reason to crash-loop: readiness reports it, and map jobs retry.
  objectStore: 'best-effort',
});

/**
 * PostgreSQL (the api's database: `jobs`, `stories`), Redis (progress events), the Kafka client
 * with the guarded producer the consumer writes its retry and DLQ records with (the service kit's
 * shared clients), the object store (map artifacts) and the one LLM client of the process (its
 * concurrency limit and breaker are per client).
 */
@Global()
@Module({
  providers: [
    ...clients.providers,
    {
      provide: LLM_CLIENT,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, METRICS_REGISTRY],
      // llmOptionsFromEnv reads key files: a missing one fails the start, not the first job.
      useFactory: (config: Config, logger: Logger, registry: Registry): LlmClient =>
        new LlmClient({ ...llmOptionsFromEnv(config), registry, logger }),
    },
  ],
  exports: [...clients.tokens, LLM_CLIENT],
})
export class ClientsModule {}
