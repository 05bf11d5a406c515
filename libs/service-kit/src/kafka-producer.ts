import { Breaker } from '@fleet/circuit-breaker';
import { envDurationMs, envInt, envList } from '@fleet/config';
import {
  classifyPublishError,
  createKafkaClient,
  FleetProducer,
  type FallbackSink,
  type KafkaClient,
  type RuntimeLogger,
} from '@fleet/kafka';
import { type Registry } from 'prom-client';
import { z } from 'zod';

/**
 * Env of every app that produces to Kafka. The breaker opens when more than
 * `KAFKA_BREAKER_FAILURE_PERCENT` of at least `KAFKA_BREAKER_MINIMUM_CALLS` sends in
 * `KAFKA_BREAKER_WINDOW_MS` failed because the broker was unavailable.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `KAFKA_BROKERS` | required | comma-separated `host:port` list |
 * | `KAFKA_SEND_TIMEOUT_MS` | `10s` | time for all in-sync replicas to acknowledge a send |
 * | `KAFKA_SEND_RETRIES` | `2` | client retries of one send before it counts as failed |
 * | `KAFKA_BREAKER_FAILURE_PERCENT` | `50` | failure percentage that opens the breaker |
 * | `KAFKA_BREAKER_MINIMUM_CALLS` | `3` | sends in the window before the percentage counts |
 * | `KAFKA_BREAKER_WINDOW_MS` | `10s` | rolling window |
 * | `KAFKA_BREAKER_RESET_MS` | `5s` | open → half-open (one probe send) after this |
 */
export const kafkaProducerEnv = z.object({
  KAFKA_BROKERS: envList(),
  KAFKA_SEND_TIMEOUT_MS: envDurationMs().default(10_000),
  KAFKA_SEND_RETRIES: envInt({ min: 0, max: 20 }).default(2),
  KAFKA_BREAKER_FAILURE_PERCENT: envInt({ min: 1, max: 100 }).default(50),
  KAFKA_BREAKER_MINIMUM_CALLS: envInt({ min: 1 }).default(3),
  KAFKA_BREAKER_WINDOW_MS: envDurationMs().default(10_000),
  KAFKA_BREAKER_RESET_MS: envDurationMs().default(5_000),
  /**
   * Optional: every topic becomes `<namespace>.<topic>` (`inNamespace` of @fleet/contracts), so
   * several isolated fleets share one cluster (tests, a developer's fleet beside a shared one).
   * Unset in production.
   */
  KAFKA_TOPIC_NAMESPACE: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'expected one lower-case segment, e.g. "test-3fa9"')
    .optional(),
});
export type KafkaProducerEnv = z.output<typeof kafkaProducerEnv>;

export interface GuardedProducer {
  kafka: KafkaClient;
  producer: FleetProducer;
  breaker: Breaker;
}

/**
 * The fleet's one way to build a Kafka producer: a client whose sends fail within seconds when the
 * broker is gone, an idempotent {@link FleetProducer}, and the `kafka-producer` circuit breaker
 * around every send (only broker unavailability counts against it, never a rejected record).
 * Pass `fallback` (the Redis fallback queue) for producers that are not the outbox.
 */
export function createGuardedProducer(options: {
  config: KafkaProducerEnv & { SERVICE_NAME: string };
  registry: Registry;
  logger: RuntimeLogger;
  fallback?: FallbackSink;
}): GuardedProducer {
  const { config, registry, logger, fallback } = options;
  const kafka = createKafkaClient({
    brokers: config.KAFKA_BROKERS,
    clientId: config.SERVICE_NAME,
    logger,
    retries: config.KAFKA_SEND_RETRIES,
    requestTimeoutMs: config.KAFKA_SEND_TIMEOUT_MS,
  });
  const breaker = new Breaker({
    name: 'kafka-producer',
    registry,
    logger,
    failureThresholdPercent: config.KAFKA_BREAKER_FAILURE_PERCENT,
    minimumCalls: config.KAFKA_BREAKER_MINIMUM_CALLS,
    windowMs: config.KAFKA_BREAKER_WINDOW_MS,
    resetTimeoutMs: config.KAFKA_BREAKER_RESET_MS,
    isFailure: (error) => classifyPublishError(error) === 'unavailable',
  });
  const producer = new FleetProducer(kafka, {
    registry,
    ackTimeoutMs: config.KAFKA_SEND_TIMEOUT_MS,
    guard: breaker,
    fallback,
  });
  return { kafka, producer, breaker };
}
