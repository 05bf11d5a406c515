import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Module } from '@nestjs/common';
import { exportJobRequested, inNamespace } from '@fleet/contracts';
import { type DataSource } from '@fleet/db';
import { ExportStore } from '@fleet/exports';
import { JobRunner, jobWorkerMetrics, type JobWorkerMetrics } from '@fleet/job-worker';
import { JobEvents, JobStore } from '@fleet/jobs';
import { type ObjectStore } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import { type RedisClient } from '@fleet/redis';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type ManifestSigner } from '@fleet/signing';
import { type Registry } from 'prom-client';
import {
  DATA_SOURCE,
  EXPORTER_METRICS,
  JOB_METRICS,
  MANIFEST_SIGNER,
  OBJECT_STORE,
  REDIS_CLIENT,
} from '../app.tokens';
import { CallbackConsumer } from '../callbacks/callback.consumer';
import { CallbackOutbox } from '../callbacks/callback-outbox';
import { type Config } from '../config';
import { type ExporterMetrics } from '../metrics';
import { ExportBundle } from './export-bundle.job';
import { ExporterWorker } from './exporter.worker';
import { EXPORT_STORE, JOB_STORE } from './jobs.tokens';

/** The worker: the `export_bundle` kind, the runner that claims and leases, the consumers and the reaper. */
@Module({
  providers: [
    {
      provide: JOB_METRICS,
      inject: [METRICS_REGISTRY],
      useFactory: (registry: Registry) => jobWorkerMetrics(registry, 'exporter'),
    },
    { provide: JOB_STORE, useValue: new JobStore() },
    { provide: EXPORT_STORE, useValue: new ExportStore() },
    {
      provide: JobRunner,
      inject: [
        SERVICE_CONFIG,
        SERVICE_LOGGER,
        DATA_SOURCE,
        REDIS_CLIENT,
        OBJECT_STORE,
        JOB_STORE,
        EXPORT_STORE,
        MANIFEST_SIGNER,
        JOB_METRICS,
        EXPORTER_METRICS,
      ],
      useFactory: (
        config: Config,
        logger: Logger,
        dataSource: DataSource,
        redis: RedisClient,
        objects: ObjectStore,
        jobs: JobStore,
        exports: ExportStore,
        signer: ManifestSigner,
        metrics: JobWorkerMetrics,
        exporter: ExporterMetrics,
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
            new ExportBundle({
              dataSource,
              jobs,
              exports,
              objects,
              signer,
              callbacks: new CallbackOutbox({ dataSource, namespace: config.KAFKA_TOPIC_NAMESPACE }),
              metrics: exporter,
              logger,
              partSize: config.EXPORT_PART_SIZE_BYTES,
              maxMapBytes: config.EXPORT_MAX_MAP_BYTES,
              maxContentItems: config.EXPORT_MAX_CONTENT_ITEMS,
            }),
          ],
          topic: inNamespace(exportJobRequested, config.KAFKA_TOPIC_NAMESPACE),
          // Unique per process: a restarted replica must not pass for the one that held a lease.
          workerId: `${config.SERVICE_NAME}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
          leaseMs: config.JOB_LEASE_MS,
          concurrency: config.WORKER_CONCURRENCY,
          maxDeliveries: config.JOB_MAX_ATTEMPTS,
          metrics,
          logger,
        }),
    },
    CallbackConsumer,
    ExporterWorker,
  ],
})
export class JobsModule {}
