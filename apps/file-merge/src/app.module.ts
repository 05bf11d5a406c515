import { Module } from '@nestjs/common';
import { ClientsModule } from './clients.module';
import { MergeModule } from './merge/merge.module';

/** Config, logger and metrics come from runService; this adds the clients and the one job. */
@Module({ imports: [ClientsModule, MergeModule] })
export class AppModule {}
