import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { generationJobRequested, inNamespace, type JobRequest, groupInNamespace } from '@fleet/contracts';
import { sqlOf, type DataSource } from '@fleet/db';
import {
  FleetConsumer,
  provisionTopics,
  subscribe,
  type FleetProducer,
  type KafkaClient,
} from '@fleet/kafka';
import { type JobStore } from '@fleet/jobs';
import { type Logger } from '@fleet/observability';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { DATA_SOURCE, FLEET_PRODUCER, GENERATION_METRICS, KAFKA_CLIENT } from '../app.tokens';
import { type Config } from '../config';
import { type GenerationMetrics } from './generation.metrics';
import { JobRunner } from './job-runner';
import { JOB_STORE } from './jobs.tokens';

/**
 * The consumer group on `generation.job.requested.1` (namespaced by `KAFKA_TOPIC_NAMESPACE`) and
 * the reaper. Failed attempts go through the runtime's `.retry` topic (`JOB_MAX_ATTEMPTS`
 * deliveries, backoff doubling from `GENERATION_RETRY_INITIAL_BACKOFF_MS`), FAILED jobs' requests
 * to `.dlq`. `WORKER_CONCURRENCY` partitions are consumed at once and the runner admits that many
 * jobs in all.
 */
@Injectable()
export class GenerationConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: FleetConsumer | undefined;
  private reaperTimer: NodeJS.Timeout | undefined;
  private reaping: Promise<void> | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    @Inject(FLEET_PRODUCER) private readonly producer: FleetProducer,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JOB_STORE) private readonly store: JobStore,
    @Inject(GENERATION_METRICS) private readonly metrics: GenerationMetrics,
    @Inject(JobRunner) private readonly runner: JobRunner,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config, logger } = this;
    const topic = inNamespace(generationJobRequested, config.KAFKA_TOPIC_NAMESPACE);
    // The consumer needs its topic and the runtime's companions (auto-create is off); idempotent.
    await provisionTopics(this.kafka, [topic]);
    await this.producer.connect();
    this.consumer = new FleetConsumer(this.kafka, {
      groupId: groupInNamespace(config.GENERATION_GROUP, config.KAFKA_TOPIC_NAMESPACE),
      subscriptions: [
        subscribe<JobRequest>(topic, (request, context) => this.runner.handle(request, context)),
      ],
      producer: this.producer,
      registry: this.registry,
      logger,
      retry: {
        // The same number as the jobs' max_attempts (the api creates them with JOB_MAX_ATTEMPTS).
        maxAttempts: config.JOB_MAX_ATTEMPTS,
        initialBackoffMs: config.GENERATION_RETRY_INITIAL_BACKOFF_MS,
        backoffMultiplier: 2,
      },
      partitionsConsumedConcurrently: config.WORKER_CONCURRENCY,
      sessionTimeoutMs: config.GENERATION_SESSION_TIMEOUT_MS,
      // Three heartbeats per session, also while a job's LLM call runs.
      heartbeatIntervalMs: Math.min(3_000, Math.floor(config.GENERATION_SESSION_TIMEOUT_MS / 3)),
    });
    await this.consumer.start();
    this.scheduleReaper(topic);
    logger.info(
      { topic: topic.name, group: config.GENERATION_GROUP, concurrency: config.WORKER_CONCURRENCY },
      'generation consuming',
    );
  }

  /**
   * SIGTERM: the reaper stops; running jobs get `GENERATION_SHUTDOWN_DRAIN_MS` to finish, then are
   * released and requeued; the consumer stops fetching, waits for its handlers, commits and leaves.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.reaperTimer);
    this.reaperTimer = undefined;
    const { abortTimer } = this.runner.beginShutdown(this.config.GENERATION_SHUTDOWN_DRAIN_MS);
    try {
      await this.consumer?.stop();
    } finally {
      clearTimeout(abortTimer);
    }
    await this.reaping;
  }

  private scheduleReaper(topic: Parameters<JobStore['requeue']>[2]): void {
    const topics = Object.fromEntries(this.runner.kindNames().map((kind) => [kind, topic]));
    const tick = () => {
      this.reaping = this.reap(topics).finally(() => {
        this.reaping = undefined;
        if (this.reaperTimer) this.reaperTimer = setTimeout(tick, this.config.JOB_REAPER_INTERVAL_MS);
      });
    };
    this.reaperTimer = setTimeout(tick, this.config.JOB_REAPER_INTERVAL_MS);
  }

  /**
   * Expired leases of this worker's kinds → PENDING with a new request (or FAILED out of attempts,
   * with `job_failed` and the kind's `onFailed`), then retention. Every replica runs it; the store
   * splits the work (SKIP LOCKED). Errors are logged: the next tick tries again.
   */
  private async reap(topics: Parameters<JobStore['reapExpired']>[1]): Promise<void> {
    const { config, logger, store } = this;
    try {
      for (;;) {
        const result = await this.dataSource.transaction((tx) =>
          store.reapExpired(tx, topics, { stuckAfterMs: config.JOB_STUCK_AFTER_MS }),
        );
        for (const job of result.requeued) {
          logger.warn({ jobId: job.id, kind: job.kind, reason: job.error }, 'reaped a job; requeued');
        }
        for (const job of result.failed) {
          logger.error({ jobId: job.id, kind: job.kind, reason: job.error }, 'reaped a job; FAILED');
          await this.runner.emit(job, 'job_failed');
          const kind = this.runner.kind(job.kind);
          if (kind) {
            await this.runner.notifyFailed(
              kind,
              job,
              { retriable: false, code: 'LEASE_EXPIRED', message: job.error ?? 'lease expired' },
              logger,
            );
          }
        }
        this.metrics.reaped.inc({ outcome: 'requeued' }, result.requeued.length);
        this.metrics.reaped.inc({ outcome: 'failed' }, result.failed.length);
        if (result.requeued.length + result.failed.length < 100) break;
      }
      for (const kind of this.runner.kindNames()) {
        await store.purgeFinished(sqlOf(this.dataSource.manager), kind, {
          keepCompleted: config.JOB_KEEP_COMPLETED,
          keepFailed: config.JOB_KEEP_FAILED,
          keepCancelled: config.JOB_KEEP_FAILED,
        });
      }
    } catch (err) {
      logger.warn({ err }, 'reaper run failed; trying again at the next interval');
    }
  }
}
