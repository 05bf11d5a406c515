import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { inNamespace, poolJobRequested } from '@fleet/contracts';
import { sqlOf, type DataSource } from '@fleet/db';
import { JobRunner, JobWorker, type JobWorkerMetrics } from '@fleet/job-worker';
import { type FleetProducer, type KafkaClient } from '@fleet/kafka';
import { type JobStore } from '@fleet/jobs';
import { type Logger } from '@fleet/observability';
import { POOL_JOB_KINDS, SEED_PRIORITY, type PoolStore } from '@fleet/pools';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import {
  DATA_SOURCE,
  FLEET_PRODUCER,
  JOB_STORE,
  KAFKA_CLIENT,
  POOL_STORE,
  WORKER_METRICS,
} from '../app.tokens';
import { poolSizes, type Config } from '../config';

/** The seed's `/health` document. */
export interface PoolFillerStatus {
  status: 'success';
  /** When a pool job last finished (any replica), ISO 8601, or null. */
  lastRunTime: string | null;
  /** The error of the latest FAILED pool job, or null when the latest finished job succeeded. */
  lastRunError: string | null;
  mode: 'consume';
  workerInterval: string;
  /** Seconds since this replica started. */
  uptime: number;
  jobsInFlight: number;
}

/**
 * Boot and shutdown of the pool-filler: publishes its pool sizes and request topic to the database
 * (the SQL claim functions and the api read them there), starts the job worker (consumer group on
 * `pool.job.requested.1`, reaper, retention), enqueues a pool check at boot and every
 * `POOL_CHECK_INTERVAL_MS` when set (deduplicated: replicas share one).
 */
@Injectable()
export class PoolFillerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly worker: JobWorker;
  private readonly sql;
  private checkTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(KAFKA_CLIENT) kafka: KafkaClient,
    @Inject(FLEET_PRODUCER) producer: FleetProducer,
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_STORE) store: JobStore,
    @Inject(POOL_STORE) private readonly pools: PoolStore,
    @Inject(WORKER_METRICS) metrics: JobWorkerMetrics,
    @Inject(JobRunner) private readonly runner: JobRunner,
  ) {
    this.sql = sqlOf(dataSource.manager);
    this.worker = new JobWorker({
      kafka,
      producer,
      registry,
      logger,
      dataSource,
      store,
      runner,
      metrics,
      topic: this.topic(),
      group: config.POOL_FILLER_GROUP,
      namespace: config.KAFKA_TOPIC_NAMESPACE,
      maxAttempts: config.JOB_MAX_ATTEMPTS,
      retryInitialBackoffMs: config.POOL_FILLER_RETRY_INITIAL_BACKOFF_MS,
      concurrency: config.WORKER_CONCURRENCY,
      sessionTimeoutMs: config.POOL_FILLER_SESSION_TIMEOUT_MS,
      drainMs: config.POOL_FILLER_SHUTDOWN_DRAIN_MS,
      reaperIntervalMs: config.JOB_REAPER_INTERVAL_MS,
      stuckAfterMs: config.JOB_STUCK_AFTER_MS,
      retention: {
        keepCompleted: config.JOB_KEEP_COMPLETED,
        keepFailed: config.JOB_KEEP_FAILED,
        maxAgeMs: config.POOL_JOB_RETENTION_MS,
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const { config } = this;
    await this.pools.applySettings(this.sql, {
      sizes: poolSizes(config),
      requestTopic: this.topic().name,
      maxJobCount: config.POOL_MAX_JOB_COUNT,
      maxAttempts: config.JOB_MAX_ATTEMPTS,
    });
    await this.worker.start();
    if (config.POOL_CHECK_ON_START) await this.scheduleCheck('start');
    if (config.POOL_CHECK_INTERVAL_MS > 0) {
      this.checkTimer = setInterval(() => void this.scheduleCheck('interval'), config.POOL_CHECK_INTERVAL_MS);
      this.checkTimer.unref();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.checkTimer);
    await this.worker.stop();
  }

  /** The seed's `/health`: last run and error across replicas (from the jobs table), mode, uptime. */
  async status(): Promise<PoolFillerStatus> {
    const [last] = await this.sql.rows<{ finished_at: Date; status: string; error: string | null }>(
      `SELECT finished_at, status, error FROM jobs
        WHERE kind = ANY($1::text[]) AND status IN ('COMPLETED', 'FAILED')
        ORDER BY finished_at DESC LIMIT 1`,
      [[...POOL_JOB_KINDS]],
    );
    return {
      status: 'success',
      lastRunTime: last?.finished_at.toISOString() ?? null,
      lastRunError: last?.status === 'FAILED' ? last.error : null,
      mode: 'consume',
      workerInterval: `consumes ${this.topic().name}, highest-priority waiting job first; reaper every ${this.config.JOB_REAPER_INTERVAL_MS / 1000}s`,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      jobsInFlight: this.runner.inFlight,
    };
  }

  private topic() {
    return inNamespace(poolJobRequested, this.config.KAFKA_TOPIC_NAMESPACE);
  }

  private async scheduleCheck(trigger: 'start' | 'interval'): Promise<void> {
    try {
      const jobId = await this.pools.enqueueJob(this.sql, {
        kind: 'check_all_pools',
        params: null,
        priority: SEED_PRIORITY.check,
        ownerId: 'system:pool-filler',
      });
      this.logger.info({ jobId, trigger }, 'pool check enqueued (or already waiting)');
    } catch (err) {
      this.logger.warn({ err, trigger }, 'could not enqueue a pool check; the next one will');
    }
  }
}
