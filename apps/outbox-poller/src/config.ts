import { baseServiceEnv, envBoolean, envDurationMs, envInt, envUrl } from '@fleet/config';
import { kafkaProducerEnv } from '@fleet/service-kit';
import { z } from 'zod';

/** Env of the outbox poller; the README's table lists each variable with its default. */
export const configSchema = baseServiceEnv.extend(kafkaProducerEnv.shape).extend({
  DATABASE_URL: envUrl({ protocols: ['postgres', 'postgresql'] }),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase schema name')
    .default('public'),
  REDIS_URL: envUrl({ protocols: ['redis', 'rediss'] }),
  OUTBOX_BATCH_SIZE: envInt({ min: 1, max: 5_000 }).default(100),
  OUTBOX_POLL_INTERVAL_MS: envDurationMs().default(500),
  OUTBOX_CONCURRENCY: envInt({ min: 1, max: 16 }).default(3),
  OUTBOX_MAX_ATTEMPTS: envInt({ min: 1, max: 100 }).default(5),
  OUTBOX_BACKOFF_INITIAL_MS: envDurationMs().default(1_000),
  OUTBOX_BACKOFF_MAX_MS: envDurationMs().default(300_000),
  OUTBOX_RETENTION_HOURS: envInt({ min: 0 }).default(168),
  OUTBOX_PURGE_INTERVAL_MS: envDurationMs().default(60_000),
  OUTBOX_NOTIFY_REDIS: envBoolean().default(true),
});
export type Config = z.output<typeof configSchema>;
