import { Global, Module } from '@nestjs/common';
import { LlmClient, llmOptionsFromEnv } from '@fleet/llm';
import { type Logger } from '@fleet/observability';
import { fleetClientProviders, METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { LLM_CLIENT } from './app.tokens';
import { type Config } from './config';

const clients = fleetClientProviders<Config>({
  database: (config) => ({
    // No migrations: the api's migrate command owns the jobs and pool tables.
    // Per job: its statements and the lease renewals beside them; plus the reaper and /health.
    poolSize: config.WORKER_CONCURRENCY * 2 + 3,
  }),
  // Progress events: the per-job stream and the pub/sub channels.
  redis: true,
});

/**
 * PostgreSQL (the api's database: `jobs`, the pool tables, `messages` for session summaries),
 * Redis (progress events), the Kafka client with the guarded producer the consumer writes its
 * retry and DLQ records with, and the one LLM client of the process (its concurrency limit and
 * breaker are per client).
 */
@Global()
@Module({
  providers: [
    ...clients.providers,
    {
      provide: LLM_CLIENT,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, METRICS_REGISTRY],
      useFactory: (config: Config, logger: Logger, registry: Registry): LlmClient =>
        new LlmClient({ ...llmOptionsFromEnv(config), registry, logger }),
    },
  ],
  exports: [...clients.tokens, LLM_CLIENT],
})
export class ClientsModule {}
