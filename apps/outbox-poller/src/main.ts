import { tracing } from './instrumentation';
import { Module } from '@nestjs/common';
import { runService } from '@fleet/service-kit';
import { configSchema } from './config';
import { OutboxPollerService } from './outbox-poller.service';

@Module({ providers: [OutboxPollerService] })
class OutboxPollerModule {}

void runService(
  {
    configSchema,
    rootModule: () => OutboxPollerModule,
    readinessChecks: (app) => app.get(OutboxPollerService).readinessChecks(),
  },
  { tracing },
);
