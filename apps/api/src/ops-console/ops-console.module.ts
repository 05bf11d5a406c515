import { Module } from '@nestjs/common';
import { JobStore } from '@fleet/jobs';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { AuthGuard } from '../auth/auth.guard';
import { type Config } from '../config';
import { ChartsController } from './charts.controller';
import { ConsoleAssets } from './console-assets';
import { PROMETHEUS } from './ops-console.tokens';
import { PrometheusClient } from './prometheus';
import { QueuesController } from './queues.controller';

/**
 * The ops console (issue 19): the web page at `/ops/`, and the two admin routes only it needs
 * besides the dead-letter, event and breaker APIs — queues (jobs and consumer lag) and charts
 * (fixed PromQL on the fleet's Prometheus).
 */
@Module({
  controllers: [QueuesController, ChartsController],
  providers: [
    AuthGuard,
    ConsoleAssets,
    // Stateless (SQL only): its own instance rather than a dependency on the jobs module.
    { provide: JobStore, useFactory: () => new JobStore() },
    {
      provide: PROMETHEUS,
      inject: [SERVICE_CONFIG],
      useFactory: (config: Config) =>
        config.PROMETHEUS_URL ? new PrometheusClient(config.PROMETHEUS_URL) : null,
    },
  ],
})
export class OpsConsoleModule {}
