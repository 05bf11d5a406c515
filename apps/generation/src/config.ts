import { baseServiceEnv, envDurationMs, envInt, envPort, envUrl } from '@fleet/config';
import { jobPlatformEnv } from '@fleet/jobs';
import { llmEnv, refineLlmEnv } from '@fleet/llm';
import { objectStoreEnv } from '@fleet/object-store';
import { kafkaProducerEnv } from '@fleet/service-kit';
import { z } from 'zod';

/**
 * Env of generation, checked once at boot (exit 1 naming each bad variable): the fleet's shared
 * Kafka producer env (the consumer writes its `.retry` and `.dlq` records with it), the LLM
 * client's (`llmEnv`, with its rules between variables), MinIO's (`objectStoreEnv`) and the job
 * platform's (`jobPlatformEnv`: lease, attempts, reaper, retention, event log). The database is the
 * api's (`jobs`, `stories`). The README's table lists every variable.
 */
export const configSchema = baseServiceEnv
  .extend(kafkaProducerEnv.shape)
  .extend(objectStoreEnv.shape)
  .extend(llmEnv.shape)
  .extend(jobPlatformEnv.shape)
  .extend({
    HEALTH_PORT: envPort().default(9476),
    DATABASE_URL: envUrl({ protocols: ['postgres', 'postgresql'] }),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase schema name')
      .default('public'),
    REDIS_URL: envUrl({ protocols: ['redis', 'rediss'] }),

    GENERATION_GROUP: z
      .string()
      .regex(/^[a-z][a-z0-9._-]*$/, 'expected a lowercase group id')
      .default('generation'),
    /** Jobs in flight per replica. One GPU serves one request at a time, so more only queues at the LLM. */
    WORKER_CONCURRENCY: envInt({ min: 1, max: 32 }).default(1),
    /** The broker evicts a replica it has not heard from for this long; heartbeats run during jobs. */
    GENERATION_SESSION_TIMEOUT_MS: envDurationMs()
      .refine((ms) => ms >= 6_000 && ms <= 300_000, 'expected a duration between 6 s and 5 min')
      .default(30_000),
    /** First retry delay of a failed attempt; doubles for each further one (2 s, 4 s, …). */
    GENERATION_RETRY_INITIAL_BACKOFF_MS: envDurationMs()
      .refine((ms) => ms >= 10 && ms <= 600_000, 'expected a duration between 10 ms and 10 min')
      .default(2_000),
    /**
     * On SIGTERM, running jobs get this long to finish; the rest are released (back to PENDING, the
     * attempt not counted) and requeued for another replica. Below the 25 s shutdown deadline.
     */
    GENERATION_SHUTDOWN_DRAIN_MS: envDurationMs()
      .refine((ms) => ms <= 20_000, 'expected a duration up to 20 s (the shutdown deadline is 25 s)')
      .default(15_000),
    /** Longest document a map job accepts (characters); the api's upload limit should be lower. */
    MAP_MAX_DOCUMENT_CHARS: envInt({ min: 1_000, max: 10_000_000 }).default(1_000_000),
    /** `max_tokens` of the map structuring call (a big document gives a big structure). */
    MAP_MAX_TOKENS: envInt({ min: 64, max: 32_768 }).default(4_096),
  })
  .superRefine(refineLlmEnv);
export type Config = z.output<typeof configSchema>;
