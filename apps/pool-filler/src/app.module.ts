import { Module } from '@nestjs/common';
import { ClientsModule } from './clients.module';
import { PoolsModule } from './pools/pools.module';

/** Config, logger and metrics come from runService; this adds the clients and the pool worker. */
@Module({ imports: [ClientsModule, PoolsModule] })
export class AppModule {}
