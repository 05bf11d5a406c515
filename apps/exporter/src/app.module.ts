import { Module } from '@nestjs/common';
import { ClientsModule } from './clients.module';
import { JobsModule } from './jobs/jobs.module';

/** Config, logger and metrics come from runService; this adds the clients, the worker and the callbacks. */
@Module({ imports: [ClientsModule, JobsModule] })
export class AppModule {}
