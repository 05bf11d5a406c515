import { baseServiceEnv, envBoolean, envDurationMs, envInt, envPort, envUrl } from '@fleet/config';
import { jobPlatformEnv } from '@fleet/jobs';
import { llmEnv, refineLlmEnv } from '@fleet/llm';
import { MAX_CHALLENGE_RATING, MAX_LEVEL, POOL_DEFAULTS, POOLS, type PoolName } from '@fleet/pools';
import { kafkaProducerEnv } from '@fleet/service-kit';
import { z } from 'zod';

/** `1-10` → [1, 10]; the bounds are checked, an inverted range refused. */
function envRange(max: number, integer: boolean) {
  return z.string().transform((raw, ctx) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/.exec(raw);
    const lo = match ? Number(match[1]) : Number.NaN;
    const hi = match ? Number(match[2]) : Number.NaN;
    const ok =
      match !== null &&
      lo <= hi &&
      hi <= max &&
      lo >= (integer ? 1 : 0) &&
      (!integer || (Number.isInteger(lo) && Number.isInteger(hi)));
    if (!ok) {
      ctx.addIssue({
        code: 'custom',
        message: `expected "low-high" with ${integer ? 1 : 0} <= low <= high <= ${max}${integer ? ' (integers)' : ''}`,
      });
      return z.NEVER;
    }
    return [lo, hi] as const;
  });
}

const sizeVariables = Object.fromEntries(
  POOLS.flatMap((pool) => [
    [`POOL_${pool.toUpperCase()}_MIN`, envInt({ min: 0, max: 100_000 }).default(POOL_DEFAULTS[pool].minSize)],
    [
      `POOL_${pool.toUpperCase()}_BATCH`,
      envInt({ min: 1, max: 1_000 }).default(POOL_DEFAULTS[pool].batchSize),
    ],
  ]),
) as Record<`POOL_${Uppercase<PoolName>}_${'MIN' | 'BATCH'}`, z.ZodDefault<ReturnType<typeof envInt>>>;

/**
 * Env of the pool-filler, checked once at boot (exit 1 naming each bad variable): the fleet's
 * Kafka producer env, the LLM client's, the job platform's, the pools' sizes (seed 001's by
 * default) and the generation knobs. The database is the api's. The README's table lists every
 * variable.
 */
export const configSchema = baseServiceEnv
  .extend(kafkaProducerEnv.shape)
  .extend(llmEnv.shape)
  .extend(jobPlatformEnv.shape)
  .extend(sizeVariables)
  .extend({
    HEALTH_PORT: envPort().default(9477),
    DATABASE_URL: envUrl({ protocols: ['postgres', 'postgresql'] }),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase schema name')
      .default('public'),
    REDIS_URL: envUrl({ protocols: ['redis', 'rediss'] }),

    POOL_FILLER_GROUP: z
      .string()
      .regex(/^[a-z][a-z0-9._-]*$/, 'expected a lowercase group id')
      .default('pool-filler'),
    /**
     * Jobs in flight per replica. Two keep one GPU busy from one replica: while one job's call
     * generates, the next one's waits at the client, so the GPU never waits for a database write.
     */
    WORKER_CONCURRENCY: envInt({ min: 1, max: 32 }).default(2),
    POOL_FILLER_SESSION_TIMEOUT_MS: envDurationMs()
      .refine((ms) => ms >= 6_000 && ms <= 300_000, 'expected a duration between 6 s and 5 min')
      .default(30_000),
    POOL_FILLER_RETRY_INITIAL_BACKOFF_MS: envDurationMs()
      .refine((ms) => ms >= 10 && ms <= 600_000, 'expected a duration between 10 ms and 10 min')
      .default(2_000),
    POOL_FILLER_SHUTDOWN_DRAIN_MS: envDurationMs()
      .refine((ms) => ms <= 20_000, 'expected a duration up to 20 s (the shutdown deadline is 25 s)')
      .default(15_000),
    /** Items asked of the LLM in one call: the prompt is paid once per call, not per item. */
    POOL_ITEMS_PER_CALL: envInt({ min: 1, max: 25 }).default(5),
    /** `max_tokens` of one generation call. */
    POOL_MAX_TOKENS: envInt({ min: 256, max: 32_768 }).default(4_096),
    /** Largest `count` a job may ask for (the api and `enqueue_worker_job` refuse more). */
    POOL_MAX_JOB_COUNT: envInt({ min: 1, max: 10_000 }).default(100),
    /**
     * Items refused (validation, duplicates) a job may regenerate before it gives up on the rest:
     * this many per item asked. Bounded, so a model that keeps repeating itself cannot loop.
     */
    POOL_MAX_REJECTIONS_PER_ITEM: envInt({ min: 0, max: 20 }).default(2),
    /** Level range of refills and of `generate_quests` without `level_range`. */
    POOL_QUEST_LEVEL_RANGE: envRange(MAX_LEVEL, true).default([1, 10]),
    /** Challenge rating range of refills and of `generate_encounters` without `cr_range`. */
    POOL_ENCOUNTER_CR_RANGE: envRange(MAX_CHALLENGE_RATING, false).default([1, 5]),
    /** Enqueue a pool check at boot (deduplicated: replicas booting together make one). */
    POOL_CHECK_ON_START: envBoolean().default(true),
    /**
     * Enqueue a pool check this often from the worker itself (0 = never: a CronJob does it in
     * Kubernetes, `admin.js schedule-check`). Deduplicated, so every replica may run it.
     */
    POOL_CHECK_INTERVAL_MS: envDurationMs().default(0),
    /** Finished worker jobs older than this are deleted (seed 001: "clean up old completed jobs"). */
    POOL_JOB_RETENTION_MS: envDurationMs()
      .refine((ms) => ms >= 60_000, 'expected at least 1 min')
      .default(7 * 24 * 3_600_000),
  })
  .superRefine(refineLlmEnv);
export type Config = z.output<typeof configSchema>;

/** The pools' sizes as configured. */
export function poolSizes(config: Config): Record<PoolName, { minSize: number; batchSize: number }> {
  return Object.fromEntries(
    POOLS.map((pool) => {
      const key = pool.toUpperCase() as Uppercase<PoolName>;
      return [pool, { minSize: config[`POOL_${key}_MIN`], batchSize: config[`POOL_${key}_BATCH`] }];
    }),
  ) as Record<PoolName, { minSize: number; batchSize: number }>;
}
