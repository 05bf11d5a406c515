import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Module } from '@nestjs/common';
import { generationJobRequested, inNamespace } from '@fleet/contracts';
import { type DataSource } from '@fleet/db';
import { JobRunner, jobWorkerMetrics, type JobWorkerMetrics } from '@fleet/job-worker';
import { JobEvents, JobStore } from '@fleet/jobs';
import { type LlmClient } from '@fleet/llm';
import { type ObjectStore } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import { type RedisClient } from '@fleet/redis';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { StoryStore } from '@fleet/stories';
import { type Registry } from 'prom-client';
import { DATA_SOURCE, GENERATION_METRICS, LLM_CLIENT, OBJECT_STORE, REDIS_CLIENT } from '../app.tokens';
import { type Config } from '../config';
import { MapGeneration } from '../map/map-generation';
import { StoryEnhancement } from '../story/story-enhancement';
import { GenerationConsumer } from './generation.consumer';
import { JOB_STORE } from './jobs.tokens';

/** The worker: the job kinds, the runner that claims and leases, the consumer and the reaper. */
@Module({
  providers: [
    {
      provide: GENERATION_METRICS,
      inject: [METRICS_REGISTRY],
      useFactory: (registry: Registry) => jobWorkerMetrics(registry, 'generation'),
    },
    { provide: JOB_STORE, useValue: new JobStore() },
    {
      provide: JobRunner,
      inject: [
        SERVICE_CONFIG,
        SERVICE_LOGGER,
        DATA_SOURCE,
        REDIS_CLIENT,
        LLM_CLIENT,
        OBJECT_STORE,
        JOB_STORE,
        GENERATION_METRICS,
      ],
      useFactory: (
        config: Config,
        logger: Logger,
        dataSource: DataSource,
        redis: RedisClient,
        llm: LlmClient,
        objects: ObjectStore,
        store: JobStore,
        metrics: JobWorkerMetrics,
      ) =>
        new JobRunner({
          dataSource,
          store,
          events: new JobEvents(redis, {
            streamMaxLen: config.JOB_EVENTS_STREAM_MAX_LEN,
            streamTtlMs: config.JOB_EVENTS_TTL_MS,
            finishedStreamTtlMs: config.JOB_EVENTS_FINISHED_TTL_MS,
          }),
          kinds: [
            new StoryEnhancement({ dataSource, stories: new StoryStore(), llm }),
            new MapGeneration({
              llm,
              objects,
              maxDocumentChars: config.MAP_MAX_DOCUMENT_CHARS,
              maxTokens: config.MAP_MAX_TOKENS,
            }),
          ],
          topic: inNamespace(generationJobRequested, config.KAFKA_TOPIC_NAMESPACE),
          // Unique per process: a restarted replica must not pass for the one that held a lease.
          workerId: `${config.SERVICE_NAME}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
          leaseMs: config.JOB_LEASE_MS,
          concurrency: config.WORKER_CONCURRENCY,
          maxDeliveries: config.JOB_MAX_ATTEMPTS,
          metrics,
          logger,
        }),
    },
    GenerationConsumer,
  ],
})
export class JobsModule {}
