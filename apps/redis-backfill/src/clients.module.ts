import { Global, Module } from '@nestjs/common';
import { FallbackQueue, fallbackQueueKeys, type RedisClient } from '@fleet/redis';
import { fleetClientProviders, SERVICE_CONFIG } from '@fleet/service-kit';
import { FALLBACK_QUEUE, REDIS_CLIENT } from './app.tokens';
import { type Config } from './config';

// No fallback sink on the producer: this app drains the fallback list; it never refills it.
const clients = fleetClientProviders<Config>({ redis: true });

/**
 * Redis, the fallback queue over it, the Kafka client, and a producer guarded by the `kafka-producer`
 * circuit breaker (the service kit's shared clients). The producer is connected lazily by the
 * drainer, through the breaker, so the app starts (and reports its queue) while the broker is down.
 */
@Global()
@Module({
  providers: [
    ...clients.providers,
    {
      provide: FALLBACK_QUEUE,
      inject: [REDIS_CLIENT, SERVICE_CONFIG],
      useFactory: (redis: RedisClient, config: Config) =>
        new FallbackQueue(redis, { keys: fallbackQueueKeys(config.FALLBACK_KEY_PREFIX) }),
    },
  ],
  exports: [...clients.tokens, FALLBACK_QUEUE],
})
export class ClientsModule {}
