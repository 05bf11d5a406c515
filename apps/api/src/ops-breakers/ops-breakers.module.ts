import { Module } from '@nestjs/common';
import { BreakerFleet, type RedisClient } from '@fleet/redis';
import { breakerControlKeysOf, SERVICE_CONFIG } from '@fleet/service-kit';
import { REDIS_CLIENT } from '../app.tokens';
import { AuthGuard } from '../auth/auth.guard';
import { type Config } from '../config';
import { BreakerActions } from './breaker-actions.use-case';
import { BreakersController } from './breakers.controller';
import { BREAKER_FLEET } from './breakers.tokens';

/**
 * The fleet's circuit breakers for operators (`/v1/admin/breakers`): the view and the overrides,
 * on the api's Redis client, under the keys every replica's breaker control uses (they follow
 * `KAFKA_TOPIC_NAMESPACE`).
 */
@Module({
  controllers: [BreakersController],
  providers: [
    AuthGuard,
    {
      provide: BREAKER_FLEET,
      inject: [REDIS_CLIENT, SERVICE_CONFIG],
      useFactory: (redis: RedisClient, config: Config) =>
        new BreakerFleet(redis, breakerControlKeysOf(config)),
    },
    BreakerActions,
  ],
})
export class OpsBreakersModule {}
