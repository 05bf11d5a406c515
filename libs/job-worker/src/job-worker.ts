import { groupInNamespace, type JobRequest, type TopicContract } from '@fleet/contracts';
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
import { type Registry } from 'prom-client';
import { type JobRunner } from './job-runner';
import { type JobWorkerMetrics } from './metrics';

/** Options of {@link JobWorker}: one app's consumer group, reaper and retention. */
export interface JobWorkerOptions {
  kafka: KafkaClient;
  /** The guarded producer the consumer writes its `.retry` and `.dlq` records with. */
  producer: FleetProducer;
  registry: Registry;
  logger: Logger;
  dataSource: DataSource;
  store: JobStore;
  runner: JobRunner;
  metrics: JobWorkerMetrics;
  /** The (namespaced) request topic of the app's jobs. */
  topic: TopicContract<JobRequest>;
  /** Consumer group, before the namespace (`generation`, `pool-filler`). */
  group: string;
  namespace: string | undefined;
  /** Deliveries of one request (`JOB_MAX_ATTEMPTS`, the jobs' `max_attempts` too). */
  maxAttempts: number;
  /** First retry delay, doubling. */
  retryInitialBackoffMs: number;
  /** `WORKER_CONCURRENCY`: partitions consumed at once (the runner admits as many jobs). */
  concurrency: number;
  sessionTimeoutMs: number;
  /** On SIGTERM, time running jobs get before they are released and requeued. */
  drainMs: number;
  /** `JOB_REAPER_INTERVAL_MS`: the reaper and retention run this often. */
  reaperIntervalMs: number;
  /** `JOB_STUCK_AFTER_MS`. */
  stuckAfterMs: number;
  retention: { keepCompleted: number; keepFailed: number; maxAgeMs?: number };
}

/**
 * A job worker's Kafka and housekeeping side, for every app that runs jobs of the job platform:
 * the consumer group on the request topic (failed attempts through the runtime's `.retry` topic,
 * FAILED jobs' requests to `.dlq`), the reaper (expired leases and stuck jobs → requeued or
 * FAILED) and retention, every `reaperIntervalMs` on every replica (the store splits the work).
 * Framework-free: the app's Nest provider calls {@link start} and {@link stop}.
 */
export class JobWorker {
  private consumer: FleetConsumer | undefined;
  private reaperTimer: NodeJS.Timeout | undefined;
  private reaping: Promise<void> | undefined;

  constructor(private readonly options: JobWorkerOptions) {}

  async start(): Promise<void> {
    const o = this.options;
    // The consumer needs its topic and the runtime's companions (auto-create is off); idempotent.
    await provisionTopics(o.kafka, [o.topic]);
    await o.producer.connect();
    this.consumer = new FleetConsumer(o.kafka, {
      groupId: groupInNamespace(o.group, o.namespace),
      subscriptions: [
        subscribe<JobRequest>(o.topic, (request, context) => o.runner.handle(request, context)),
      ],
      producer: o.producer,
      registry: o.registry,
      logger: o.logger,
      retry: { maxAttempts: o.maxAttempts, initialBackoffMs: o.retryInitialBackoffMs, backoffMultiplier: 2 },
      partitionsConsumedConcurrently: o.concurrency,
      sessionTimeoutMs: o.sessionTimeoutMs,
      // Three heartbeats per session, also while a job's LLM call runs.
      heartbeatIntervalMs: Math.min(3_000, Math.floor(o.sessionTimeoutMs / 3)),
    });
    await this.consumer.start();
    this.scheduleReaper();
    o.logger.info(
      { topic: o.topic.name, group: o.group, concurrency: o.concurrency, kinds: o.runner.kindNames() },
      'job worker consuming',
    );
  }

  /**
   * SIGTERM: the reaper stops; running jobs get `drainMs` to finish, then are released and
   * requeued; the consumer stops fetching, waits for its handlers, commits and leaves.
   */
  async stop(): Promise<void> {
    clearTimeout(this.reaperTimer);
    this.reaperTimer = undefined;
    const { abortTimer } = this.options.runner.beginShutdown(this.options.drainMs);
    try {
      await this.consumer?.stop();
    } finally {
      clearTimeout(abortTimer);
    }
    await this.reaping;
  }

  /** One reaper and retention run now (the timer's work; for tests and the admin CLI). */
  async reapOnce(): Promise<void> {
    const topics = Object.fromEntries(
      this.options.runner.kindNames().map((kind) => [kind, this.options.topic]),
    );
    await this.reap(topics);
  }

  private scheduleReaper(): void {
    const topics = Object.fromEntries(
      this.options.runner.kindNames().map((kind) => [kind, this.options.topic]),
    );
    const tick = () => {
      this.reaping = this.reap(topics).finally(() => {
        this.reaping = undefined;
        if (this.reaperTimer) this.reaperTimer = setTimeout(tick, this.options.reaperIntervalMs);
      });
    };
    this.reaperTimer = setTimeout(tick, this.options.reaperIntervalMs);
  }

  /**
   * Expired leases of this worker's kinds → PENDING with a new request (or FAILED out of attempts,
   * with `job_failed` and the kind's `onFailed`), then retention. Errors are logged: the next tick
   * tries again.
   */
  private async reap(topics: Parameters<JobStore['reapExpired']>[1]): Promise<void> {
    const { store, runner, logger, metrics, dataSource, stuckAfterMs, retention } = this.options;
    try {
      for (;;) {
        const result = await dataSource.transaction((tx) => store.reapExpired(tx, topics, { stuckAfterMs }));
        for (const job of result.requeued) {
          logger.warn({ jobId: job.id, kind: job.kind, reason: job.error }, 'reaped a job; requeued');
        }
        for (const job of result.failed) {
          logger.error({ jobId: job.id, kind: job.kind, reason: job.error }, 'reaped a job; FAILED');
          await runner.emit(job, 'job_failed');
          const kind = runner.kind(job.kind);
          if (kind) {
            await runner.notifyFailed(
              kind,
              job,
              { retriable: false, code: 'LEASE_EXPIRED', message: job.error ?? 'lease expired' },
              logger,
            );
          }
        }
        metrics.reaped.inc({ outcome: 'requeued' }, result.requeued.length);
        metrics.reaped.inc({ outcome: 'failed' }, result.failed.length);
        if (result.requeued.length + result.failed.length < 100) break;
      }
      for (const kind of runner.kindNames()) {
        const purged = await store.purgeFinished(sqlOf(dataSource.manager), kind, {
          keepCompleted: retention.keepCompleted,
          keepFailed: retention.keepFailed,
          keepCancelled: retention.keepFailed,
          ...(retention.maxAgeMs !== undefined ? { maxAgeMs: retention.maxAgeMs } : {}),
        });
        metrics.purged.inc({ kind }, purged.completed + purged.failed + purged.cancelled);
      }
    } catch (err) {
      logger.warn({ err }, 'reaper run failed; trying again at the next interval');
    }
  }
}
