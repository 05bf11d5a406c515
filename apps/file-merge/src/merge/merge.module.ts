import { Module } from '@nestjs/common';
import { type DataSource } from '@fleet/db';
import { type ObjectStore } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { UploadStore } from '@fleet/uploads';
import { type Registry } from 'prom-client';
import { DATA_SOURCE, OBJECT_STORE } from '../app.tokens';
import { type Config } from '../config';
import { MergeConsumer } from './merge.consumer';
import { mergeMetrics, type MergeMetrics } from './merge.metrics';
import { MERGE_METRICS } from './merge.tokens';
import { MergeUpload } from './merge-upload.use-case';

/** The one job: compose completed uploads into their final objects. */
@Module({
  providers: [
    {
      provide: MERGE_METRICS,
      inject: [METRICS_REGISTRY],
      useFactory: (registry: Registry) => mergeMetrics(registry),
    },
    {
      provide: MergeUpload,
      inject: [DATA_SOURCE, OBJECT_STORE, MERGE_METRICS, SERVICE_LOGGER, SERVICE_CONFIG],
      useFactory: (
        dataSource: DataSource,
        objects: ObjectStore,
        metrics: MergeMetrics,
        logger: Logger,
        config: Config,
      ) =>
        new MergeUpload({
          dataSource,
          uploads: new UploadStore(),
          objects,
          metrics,
          logger,
          composeConcurrency: config.MERGE_COMPOSE_CONCURRENCY,
          timeoutMs: config.FILE_MERGE_TIMEOUT_MS,
        }),
    },
    MergeConsumer,
  ],
})
export class MergeModule {}
