import { baseServiceEnv, envDurationMs, envInt, envPort, envUrl } from '@fleet/config';
import { kafkaProducerEnv } from '@fleet/service-kit';
import { MAX_CLAIM } from '@fleet/redis';
import { z } from 'zod';

/** A duration variable (`1500`, `30s`…) of at least `minMs`. */
const durationAtLeast = (minMs: number) =>
  envDurationMs().refine((ms) => ms >= minMs, { message: `expected a duration of at least ${minMs} ms` });

/**
 * Env of redis-backfill, checked once at boot (exit 1 naming each bad variable). The Kafka
 * variables are the fleet's shared `kafkaProducerEnv`. The README's table
 * lists each variable with its meaning.
 */
export const configSchema = baseServiceEnv.extend(kafkaProducerEnv.shape).extend({
  HEALTH_PORT: envPort().default(9472),
  REDIS_URL: envUrl({ protocols: ['redis', 'rediss'] }),
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
