import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Breaker } from '@fleet/circuit-breaker';
import { classifyPublishError, createKafkaClient, FleetProducer, type KafkaClient } from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
import {
  closeRedisClient,
  createRedisClient,
  FallbackQueue,
  fallbackQueueKeys,
  type RedisClient,
} from '@fleet/redis';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { FALLBACK_QUEUE, FLEET_PRODUCER, KAFKA_BREAKER, KAFKA_CLIENT, REDIS_CLIENT } from './app.tokens';
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
      provide: KAFKA_CLIENT,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: (config: Config, logger: Logger): KafkaClient =>
        createKafkaClient({
          brokers: config.KAFKA_BROKERS,
          clientId: config.SERVICE_NAME,
          logger,
          // A few retries: a send fails within seconds when the broker is gone, and the breaker,
          // not the client, decides when to try again.
          retries: config.KAFKA_SEND_RETRIES,
          requestTimeoutMs: config.KAFKA_SEND_TIMEOUT_MS,
        }),
    },
    {
      provide: KAFKA_BREAKER,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, METRICS_REGISTRY],
      useFactory: (config: Config, logger: Logger, registry: Registry) =>
        new Breaker({
          name: 'kafka-producer',
          registry,
          logger,
          failureThresholdPercent: config.KAFKA_BREAKER_FAILURE_PERCENT,
          minimumCalls: config.KAFKA_BREAKER_MINIMUM_CALLS,
          windowMs: config.KAFKA_BREAKER_WINDOW_MS,
          resetTimeoutMs: config.KAFKA_BREAKER_RESET_MS,
          // A record the broker rejects says nothing about the broker's health.
          isFailure: (error) => classifyPublishError(error) === 'unavailable',
        }),
    },
    {
      provide: FLEET_PRODUCER,
      inject: [KAFKA_CLIENT, KAFKA_BREAKER, SERVICE_CONFIG, METRICS_REGISTRY],
      // No fallback sink here: this app drains the fallback list; it never refills it.
      useFactory: (kafka: KafkaClient, breaker: Breaker, config: Config, registry: Registry) =>
        new FleetProducer(kafka, { registry, guard: breaker, ackTimeoutMs: config.KAFKA_SEND_TIMEOUT_MS }),
    },
    ClientsLifecycle,
  ],
  exports: [REDIS_CLIENT, FALLBACK_QUEUE, KAFKA_CLIENT, KAFKA_BREAKER, FLEET_PRODUCER],
})
export class ClientsModule {}
