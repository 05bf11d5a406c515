import { Module } from '@nestjs/common';
import { ClientsModule } from './clients.module';
import { DrainModule } from './drain/drain.module';

/** Config, logger and metrics come from runService; this adds the clients and the one job. */
@Module({ imports: [ClientsModule, DrainModule] })
export class AppModule {}
