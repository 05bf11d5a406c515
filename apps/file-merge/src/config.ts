import { baseServiceEnv, envDurationMs, envInt, envPort, envUrl } from '@fleet/config';
import { objectStoreEnv } from '@fleet/object-store';
import { kafkaProducerEnv } from '@fleet/service-kit';
import { z } from 'zod';

/**
 * Env of file-merge, checked once at boot (exit 1 naming each bad variable). The Kafka variables
 * are the fleet's shared `kafkaProducerEnv` (the consumer writes its `.retry` and `.dlq` records
 * with that producer), the MinIO ones the shared `objectStoreEnv`. The database is the api's: this
 * app reads and updates the `uploads` tables its migrations create. The README's table lists every
 * variable.
 */
export const configSchema = baseServiceEnv
  .extend(kafkaProducerEnv.shape)
  .extend(objectStoreEnv.shape)
  .extend({
    HEALTH_PORT: envPort().default(9475),
    DATABASE_URL: envUrl({ protocols: ['postgres', 'postgresql'] }),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase schema name')
      .default('public'),

    FILE_MERGE_GROUP: z
      .string()
      .regex(/^[a-z][a-z0-9._-]*$/, 'expected a lowercase group id')
      .default('file-merge'),
    /** Merge requests handled in parallel per replica (one per partition). */
    FILE_MERGE_PARTITIONS_CONCURRENCY: envInt({ min: 1, max: 64 }).default(2),
    /** The broker evicts a replica it has not heard from for this long (its partitions move on). */
    FILE_MERGE_SESSION_TIMEOUT_MS: envDurationMs()
      .refine((ms) => ms >= 6_000 && ms <= 300_000, 'expected a duration between 6 s and 5 min')
      .default(30_000),
    /** Deliveries of a request, the first included, before a transient failure goes to the DLQ. */
    FILE_MERGE_MAX_ATTEMPTS: envInt({ min: 1, max: 20 }).default(5),
    FILE_MERGE_RETRY_INITIAL_BACKOFF_MS: envDurationMs()
      .refine((ms) => ms >= 10 && ms <= 600_000, 'expected a duration between 10 ms and 10 min')
      .default(1_000),
    /**
     * One merge (compose, stat, checksum read, database update) taking longer counts as a
     * transient failure: retried, then the DLQ. Neither the MinIO client nor the database
     * statements have a deadline of their own.
     */
    FILE_MERGE_TIMEOUT_MS: envDurationMs()
      .refine((ms) => ms >= 1_000 && ms <= 6 * 3_600_000, 'expected a duration between 1 s and 6 h')
      .default(600_000),
    /** Part copies MinIO runs at once for one compose. */
    MERGE_COMPOSE_CONCURRENCY: envInt({ min: 1, max: 100 }).default(10),
  });
export type Config = z.output<typeof configSchema>;
