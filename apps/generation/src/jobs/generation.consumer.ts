import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { generationJobRequested, inNamespace } from '@fleet/contracts';
import { type DataSource } from '@fleet/db';
import { JobRunner, JobWorker, type JobWorkerMetrics } from '@fleet/job-worker';
import { type FleetProducer, type KafkaClient } from '@fleet/kafka';
import { type JobStore } from '@fleet/jobs';
import { type Logger } from '@fleet/observability';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { DATA_SOURCE, FLEET_PRODUCER, GENERATION_METRICS, KAFKA_CLIENT } from '../app.tokens';
import { type Config } from '../config';
import { JOB_STORE } from './jobs.tokens';

/**
 * The consumer group on `generation.job.requested.1` (namespaced by `KAFKA_TOPIC_NAMESPACE`) and
 * the reaper, through `@fleet/job-worker`. Failed attempts go through the runtime's `.retry` topic
 * (`JOB_MAX_ATTEMPTS` deliveries, backoff doubling from `GENERATION_RETRY_INITIAL_BACKOFF_MS`),
 * FAILED jobs' requests to `.dlq`. `WORKER_CONCURRENCY` partitions are consumed at once and the
 * runner admits that many jobs in all.
 */
@Injectable()
export class GenerationConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly worker: JobWorker;

  constructor(
    @Inject(SERVICE_CONFIG) config: Config,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(KAFKA_CLIENT) kafka: KafkaClient,
    @Inject(FLEET_PRODUCER) producer: FleetProducer,
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_STORE) store: JobStore,
    @Inject(GENERATION_METRICS) metrics: JobWorkerMetrics,
    @Inject(JobRunner) runner: JobRunner,
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
      topic: inNamespace(generationJobRequested, config.KAFKA_TOPIC_NAMESPACE),
      group: config.GENERATION_GROUP,
      namespace: config.KAFKA_TOPIC_NAMESPACE,
      maxAttempts: config.JOB_MAX_ATTEMPTS,
      retryInitialBackoffMs: config.GENERATION_RETRY_INITIAL_BACKOFF_MS,
      concurrency: config.WORKER_CONCURRENCY,
      sessionTimeoutMs: config.GENERATION_SESSION_TIMEOUT_MS,
      drainMs: config.GENERATION_SHUTDOWN_DRAIN_MS,
      reaperIntervalMs: config.JOB_REAPER_INTERVAL_MS,
      stuckAfterMs: config.JOB_STUCK_AFTER_MS,
      retention: { keepCompleted: config.JOB_KEEP_COMPLETED, keepFailed: config.JOB_KEEP_FAILED },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.worker.start();
  }

  /** SIGTERM: see {@link JobWorker.stop}. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }
}
