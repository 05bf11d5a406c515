import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type Breaker } from '@fleet/circuit-breaker';
import { type FleetProducer } from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
import {
  closeRedisClient,
  createRedisClient,
  FallbackQueue,
  fallbackQueueKeys,
  type RedisClient,
} from '@fleet/redis';
import {
  createGuardedProducer,
  METRICS_REGISTRY,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  type GuardedProducer,
} from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import {
  FALLBACK_QUEUE,
  FLEET_PRODUCER,
  GUARDED_PRODUCER,
  KAFKA_BREAKER,
  KAFKA_CLIENT,
  REDIS_CLIENT,
} from './app.tokens';
import { type Config } from './config';

/** Closes the clients after the drainer stopped (Nest runs every module's shutdown hooks in phases). */
@Injectable()
class ClientsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(FLEET_PRODUCER) private readonly producer: FleetProducer,
    @Inject(KAFKA_BREAKER) private readonly breaker: Breaker,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.producer.isConnected) await this.producer.disconnect();
    this.breaker.shutdown();
    await closeRedisClient(this.redis);
  }
}

/**
 * Redis, the fallback queue over it, the Kafka client, and a producer guarded by the `kafka-producer`
 * circuit breaker. The producer is connected lazily by the drainer, through the breaker, so the app
 * starts (and reports its queue) while the broker is down.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: (config: Config, logger: Logger): RedisClient =>
        createRedisClient({ url: config.REDIS_URL, connectionName: config.SERVICE_NAME, logger }),
    },
    {
      provide: FALLBACK_QUEUE,
      inject: [REDIS_CLIENT, SERVICE_CONFIG],
      useFactory: (redis: RedisClient, config: Config) =>
        new FallbackQueue(redis, { keys: fallbackQueueKeys(config.FALLBACK_KEY_PREFIX) }),
    },
    {
      provide: GUARDED_PRODUCER,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, METRICS_REGISTRY],
      // No fallback sink here: this app drains the fallback list; it never refills it.
      useFactory: (config: Config, logger: Logger, registry: Registry): GuardedProducer =>
        createGuardedProducer({ config, registry, logger }),
    },
    { provide: KAFKA_CLIENT, inject: [GUARDED_PRODUCER], useFactory: (g: GuardedProducer) => g.kafka },
    { provide: KAFKA_BREAKER, inject: [GUARDED_PRODUCER], useFactory: (g: GuardedProducer) => g.breaker },
    { provide: FLEET_PRODUCER, inject: [GUARDED_PRODUCER], useFactory: (g: GuardedProducer) => g.producer },
    ClientsLifecycle,
  ],
  exports: [REDIS_CLIENT, FALLBACK_QUEUE, KAFKA_CLIENT, KAFKA_BREAKER, FLEET_PRODUCER],
})
export class ClientsModule {}
