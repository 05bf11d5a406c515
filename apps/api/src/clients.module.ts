import { Global, Module } from '@nestjs/common';
import { type Logger } from '@fleet/observability';
import { OUTBOX_ENTITIES } from '@fleet/outbox';
import { fleetClientProviders, METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { API_METRICS, JWT_VERIFIER } from './app.tokens';
import { loadOrCreateDevKeys } from './auth/dev-keys';
import { JwtVerifier, readKeySource } from './auth/jwt-verifier';
import { API_ENTITIES } from './chat/chat.entities';
import { type Config } from './config';
import { apiMetrics } from './http/api.metrics';
import { API_MIGRATIONS } from './migrations';

const clients = fleetClientProviders<Config>({
  database: (config) => ({
    entities: [...OUTBOX_ENTITIES, ...API_ENTITIES],
    migrations: API_MIGRATIONS,
    poolSize: config.DATABASE_POOL_SIZE,
  }),
  redis: true,
  // At boot, so a missing bucket is a failed start (exit 1, restarted) rather than a 500 on the
  // first chunk; readiness keeps checking it afterwards.
  objectStore: 'required',
});

/**
 * PostgreSQL (the chat and upload tables and the outbox, one pool), Redis (pub/sub publishes), the
 * guarded Kafka producer (only the status consumer's retry and DLQ records: requests never
 * publish), MinIO (upload chunks; the bucket is created at boot), the JWT verifier and the app's
 * metrics.
 */
@Global()
@Module({
  providers: [
    ...clients.providers,
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
          cacheSize: config.AUTH_TOKEN_CACHE_SIZE,
          keys,
        });
      },
    },
    {
      provide: API_METRICS,
      inject: [METRICS_REGISTRY],
      useFactory: (registry: Registry) => apiMetrics(registry),
    },
  ],
  exports: [...clients.tokens, JWT_VERIFIER, API_METRICS],
})
export class ClientsModule {}
