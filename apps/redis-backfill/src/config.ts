import { baseServiceEnv, envDurationMs, envInt, envList, envPort, envUrl } from '@fleet/config';
import { MAX_CLAIM } from '@fleet/redis';
import { z } from 'zod';

/** A duration variable (`1500`, `30s`…) of at least `minMs`. */
const durationAtLeast = (minMs: number) =>
  envDurationMs().refine((ms) => ms >= minMs, { message: `expected a duration of at least ${minMs} ms` });

/**
 * Env of redis-backfill, checked once at boot (exit 1 naming each bad variable). The Kafka
 * variables have the same names and defaults as every other producing app's. The README's table
 * lists each variable with its meaning.
 */
export const configSchema = baseServiceEnv.extend({
  HEALTH_PORT: envPort().default(9472),
  REDIS_URL: envUrl({ protocols: ['redis', 'rediss'] }),
  KAFKA_BROKERS: envList(),
  KAFKA_SEND_TIMEOUT_MS: durationAtLeast(100).default(10_000),
  KAFKA_SEND_RETRIES: envInt({ min: 0, max: 20 }).default(2),
  KAFKA_BREAKER_FAILURE_PERCENT: envInt({ min: 1, max: 100 }).default(50),
  KAFKA_BREAKER_MINIMUM_CALLS: envInt({ min: 1 }).default(3),
  KAFKA_BREAKER_WINDOW_MS: durationAtLeast(100).default(10_000),
  KAFKA_BREAKER_RESET_MS: durationAtLeast(100).default(5_000),
  FALLBACK_BATCH_SIZE: envInt({ min: 1, max: MAX_CLAIM }).default(50),
  FALLBACK_POLL_INTERVAL_MS: durationAtLeast(50).default(10_000),
  FALLBACK_LOCK_TTL_MS: durationAtLeast(1_000).default(15_000),
  FALLBACK_BACKOFF_INITIAL_MS: durationAtLeast(10).default(1_000),
  FALLBACK_BACKOFF_MAX_MS: durationAtLeast(10).default(30_000),
  FALLBACK_MAX_REJECTIONS: envInt({ min: 1, max: 100 }).default(3),
  /** Prepended to every fallback key (tests; a `{hash-tag}` on Redis Cluster). */
  FALLBACK_KEY_PREFIX: z.string().default(''),
});
export type Config = z.output<typeof configSchema>;
