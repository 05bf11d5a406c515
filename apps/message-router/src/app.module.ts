import { Module } from '@nestjs/common';
import { ClientsModule } from './clients.module';
import { RouteModule } from './route/route.module';

/** Config, logger and metrics come from runService; this adds the clients and the one job. */
@Module({ imports: [ClientsModule, RouteModule] })
export class AppModule {}
