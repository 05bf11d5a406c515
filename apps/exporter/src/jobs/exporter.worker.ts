import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { exportJobRequested, inNamespace } from '@fleet/contracts';
import { type DataSource, sqlOf } from '@fleet/db';
import { type ExportStore } from '@fleet/exports';
import { JobRunner, JobWorker, type JobWorkerMetrics } from '@fleet/job-worker';
import { type FleetProducer, type KafkaClient } from '@fleet/kafka';
import { type JobStore } from '@fleet/jobs';
import { type Logger } from '@fleet/observability';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type ManifestSigner } from '@fleet/signing';
import { type Registry } from 'prom-client';
import { DATA_SOURCE, FLEET_PRODUCER, JOB_METRICS, KAFKA_CLIENT, MANIFEST_SIGNER } from '../app.tokens';
import { CallbackConsumer } from '../callbacks/callback.consumer';
import { type Config } from '../config';
import { EXPORT_STORE, JOB_STORE } from './jobs.tokens';

/**
 * The consumer group on `export.job.requested.1` (namespaced by `KAFKA_TOPIC_NAMESPACE`) and the
 * reaper, through `@fleet/job-worker`, plus the callback consumer. At boot the signer's public key
 * is published (`export_signing_keys`, served by `GET /v1/exports/keys`) before the first job is
 * taken: no bundle is signed with a key nobody can look up. On SIGTERM the job consumer stops
 * first (running exports finish within `EXPORTER_SHUTDOWN_DRAIN_MS`, or abort their uploads and are
 * released), then the callbacks, so a completion's callback written meanwhile is still delivered
 * by this or another replica.
 */
@Injectable()
export class ExporterWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly worker: JobWorker;

  constructor(
    @Inject(SERVICE_CONFIG) config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(KAFKA_CLIENT) kafka: KafkaClient,
    @Inject(FLEET_PRODUCER) producer: FleetProducer,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JOB_STORE) store: JobStore,
    @Inject(EXPORT_STORE) private readonly exports: ExportStore,
    @Inject(MANIFEST_SIGNER) private readonly signer: ManifestSigner,
    @Inject(JOB_METRICS) metrics: JobWorkerMetrics,
    @Inject(JobRunner) runner: JobRunner,
    @Inject(CallbackConsumer) private readonly callbacks: CallbackConsumer,
  ) {
    this.worker = new JobWorker({
      kafka,
      producer,
      registry,
      logger,
      dataSource,
      store,
      runner,
      metrics,
      topic: inNamespace(exportJobRequested, config.KAFKA_TOPIC_NAMESPACE),
      group: config.EXPORTER_GROUP,
      namespace: config.KAFKA_TOPIC_NAMESPACE,
      maxAttempts: config.JOB_MAX_ATTEMPTS,
      retryInitialBackoffMs: config.EXPORTER_RETRY_INITIAL_BACKOFF_MS,
      concurrency: config.WORKER_CONCURRENCY,
      sessionTimeoutMs: config.EXPORTER_SESSION_TIMEOUT_MS,
      drainMs: config.EXPORTER_SHUTDOWN_DRAIN_MS,
      reaperIntervalMs: config.JOB_REAPER_INTERVAL_MS,
      stuckAfterMs: config.JOB_STUCK_AFTER_MS,
      retention: { keepCompleted: config.JOB_KEEP_COMPLETED, keepFailed: config.JOB_KEEP_FAILED },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const key = this.signer.publicKey();
    await this.exports.publishKey(sqlOf(this.dataSource.manager), {
      keyId: key.keyId,
      algorithm: key.algorithm,
      jwk: key.jwk as Record<string, unknown>,
      spkiPem: key.spkiPem,
    });
    this.logger.info({ keyId: key.keyId }, 'signing key published');
    await this.callbacks.start();
    await this.worker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
    await this.callbacks.stop();
  }
}
