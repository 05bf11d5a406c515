import { Global, Module, type OnApplicationShutdown, Inject } from '@nestjs/common';
import { type Logger } from '@fleet/observability';
import { fleetClientProviders, METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type ManifestSigner, signerFromEnv } from '@fleet/signing';
import { type Registry } from 'prom-client';
import { EXPORTER_METRICS, MANIFEST_SIGNER } from './app.tokens';
import { type Config } from './config';
import { exporterMetrics } from './metrics';

const clients = fleetClientProviders<Config>({
  database: (config) => ({
    // No migrations: the api's migrate command owns jobs, exports, pools and uploads.
    // Per job: its statements and the lease renewals beside them; plus the reaper and the callbacks.
    poolSize: config.WORKER_CONCURRENCY * 2 + 3,
  }),
  // Progress events: the per-job stream and the pub/sub channels.
  redis: true,
  // MinIO being away at boot is no reason to crash-loop: readiness reports it, and exports retry.
  objectStore: 'best-effort',
});

/**
 * The service kit's shared clients (PostgreSQL, Redis, Kafka and its guarded producer, MinIO), the
 * manifest signer (a local key or a PKCS#11 token: a missing key, module or PIN fails the start,
 * not the first export) and the exporter's metrics.
 */
@Global()
@Module({
  providers: [
    ...clients.providers,
    {
      provide: MANIFEST_SIGNER,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: async (config: Config, logger: Logger): Promise<ManifestSigner> => {
        const signer = await signerFromEnv(config as unknown as Record<string, string | undefined>);
        logger.info(
          { keyId: signer.keyId, algorithm: signer.algorithm, signer: config.EXPORT_SIGNER },
          'manifest signer ready',
        );
        return signer;
      },
    },
    {
      provide: EXPORTER_METRICS,
      inject: [METRICS_REGISTRY],
      useFactory: (registry: Registry) => exporterMetrics(registry),
    },
  ],
  exports: [...clients.tokens, MANIFEST_SIGNER, EXPORTER_METRICS],
})
export class ClientsModule implements OnApplicationShutdown {
  constructor(@Inject(MANIFEST_SIGNER) private readonly signer: ManifestSigner) {}

  /** A PKCS#11 session is logged out and the module finalized; a local key has nothing to close. */
  async onApplicationShutdown(): Promise<void> {
    await this.signer.close?.();
  }
}
