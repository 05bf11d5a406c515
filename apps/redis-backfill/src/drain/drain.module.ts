import { Module } from '@nestjs/common';
import { type FallbackQueue } from '@fleet/redis';
import { METRICS_REGISTRY } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { FALLBACK_QUEUE } from '../app.tokens';
import { DrainBatch } from './drain-batch.use-case';
import { drainMetrics } from './drain.metrics';
import { DRAIN_METRICS } from './drain.tokens';
import { Drainer } from './drainer.service';

/** The one job: drain the Redis fallback list into Kafka. */
@Module({
  providers: [
    {
      provide: DRAIN_METRICS,
      inject: [METRICS_REGISTRY, FALLBACK_QUEUE],
      useFactory: (registry: Registry, queue: FallbackQueue) => drainMetrics(registry, queue),
    },
    DrainBatch,
    Drainer,
  ],
})
export class DrainModule {}
