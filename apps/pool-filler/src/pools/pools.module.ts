import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Module } from '@nestjs/common';
import { inNamespace, poolJobRequested } from '@fleet/contracts';
import { type DataSource } from '@fleet/db';
import { JobRunner, jobWorkerMetrics, type JobWorkerMetrics } from '@fleet/job-worker';
import { JobEvents, JobStore } from '@fleet/jobs';
import { type LlmClient } from '@fleet/llm';
import { type Logger } from '@fleet/observability';
import { POOLS, PoolStore } from '@fleet/pools';
import { type RedisClient } from '@fleet/redis';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import {
  DATA_SOURCE,
  JOB_STORE,
  LLM_CLIENT,
  POOL_METRICS,
  POOL_STORE,
  REDIS_CLIENT,
  WORKER_METRICS,
} from '../app.tokens';
import { CheckAllPools } from '../check-pools/check-all-pools.job';
import { type Config } from '../config';
import { GenerateItems } from '../generate-items/generate-items.job';
import { SummarizeSession } from '../summarize-session/summarize-session.job';
import { poolMetrics, type PoolMetrics } from './pool.metrics';
import { PoolFillerWorker } from './pool-filler.worker';

/** The worker: the seed's seven job kinds, the runner that claims and leases, the consumer and reaper. */
@Module({
  providers: [
    { provide: JOB_STORE, useValue: new JobStore() },
    { provide: POOL_STORE, useValue: new PoolStore() },
    {
      provide: WORKER_METRICS,
      inject: [METRICS_REGISTRY],
      useFactory: (registry: Registry) => jobWorkerMetrics(registry, 'pool_filler'),
    },
    {
      provide: POOL_METRICS,
      inject: [METRICS_REGISTRY, POOL_STORE, DATA_SOURCE],
      useFactory: (registry: Registry, store: PoolStore, dataSource: DataSource) =>
        poolMetrics(registry, { store, dataSource }),
    },
    {
      provide: JobRunner,
      inject: [
        SERVICE_CONFIG,
        SERVICE_LOGGER,
        DATA_SOURCE,
        REDIS_CLIENT,
        LLM_CLIENT,
        JOB_STORE,
        POOL_STORE,
        WORKER_METRICS,
        POOL_METRICS,
      ],
      useFactory: (
        config: Config,
        logger: Logger,
        dataSource: DataSource,
        redis: RedisClient,
        llm: LlmClient,
        jobs: JobStore,
        store: PoolStore,
        metrics: JobWorkerMetrics,
        pools: PoolMetrics,
      ) =>
        new JobRunner({
          dataSource,
          store: jobs,
          events: new JobEvents(redis, {
            streamMaxLen: config.JOB_EVENTS_STREAM_MAX_LEN,
            streamTtlMs: config.JOB_EVENTS_TTL_MS,
            finishedStreamTtlMs: config.JOB_EVENTS_FINISHED_TTL_MS,
          }),
          kinds: [
            new CheckAllPools({ dataSource, store, metrics: pools }),
            ...POOLS.map(
              (pool) =>
                new GenerateItems({
                  pool,
                  dataSource,
                  store,
                  llm,
                  metrics: pools,
                  itemsPerCall: config.POOL_ITEMS_PER_CALL,
                  maxTokens: config.POOL_MAX_TOKENS,
                  maxCount: config.POOL_MAX_JOB_COUNT,
                  maxRejectionsPerItem: config.POOL_MAX_REJECTIONS_PER_ITEM,
                  questLevelRange: config.POOL_QUEST_LEVEL_RANGE,
                  encounterCrRange: config.POOL_ENCOUNTER_CR_RANGE,
                }),
            ),
            new SummarizeSession({ dataSource, store, llm, maxCount: config.POOL_MAX_JOB_COUNT }),
          ],
          topic: inNamespace(poolJobRequested, config.KAFKA_TOPIC_NAMESPACE),
          // Unique per process: a restarted replica must not pass for the one that held a lease.
          workerId: `${config.SERVICE_NAME}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
          leaseMs: config.JOB_LEASE_MS,
          concurrency: config.WORKER_CONCURRENCY,
          maxDeliveries: config.JOB_MAX_ATTEMPTS,
          // Seed 001: the worker takes the highest-priority waiting job, whatever request woke it.
          claim: 'best-waiting',
          metrics,
          logger,
        }),
    },
    PoolFillerWorker,
  ],
  exports: [PoolFillerWorker],
})
export class PoolsModule {}
