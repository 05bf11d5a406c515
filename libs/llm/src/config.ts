import { readFileSync } from 'node:fs';
import { ConfigError, envDurationMs, envInt, envUrl, type ConfigIssue } from '@fleet/config';
import { z } from 'zod';
import { type LlmClientOptions } from './client';

/**
 * LM Studio's own default address on the machine it runs on. Deliberately loopback: a
 * private-network address (the GPU box on the LAN) is configuration, never a default.
 */
export const DEFAULT_LOCAL_LLM_ENDPOINT = 'http://127.0.0.1:1234/v1';

/**
 * Env of every app that calls the LLM. A plain object, so apps compose it with
 * `baseServiceEnv.extend(llmEnv.shape)`; the rules between variables (fallback model with the
 * fallback endpoint, a key or a key file but not both) are checked by {@link llmEnvIssues}, which
 * {@link llmOptionsFromEnv} applies (apps may also add `.superRefine(refineLlmEnv)` to their schema
 * to get them in the boot report).
 *
 * `LOCAL_LLM_MODEL` is required: the model name depends on what is loaded in LM Studio, and a
 * guessed default would only move the failure from boot to the first job.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `LOCAL_LLM_ENDPOINT` | `http://127.0.0.1:1234/v1` | OpenAI-compatible base URL, up to `/v1` |
 * | `LOCAL_LLM_MODEL` | required | model id as `GET /v1/models` lists it |
 * | `LOCAL_LLM_API_KEY` / `_FILE` | unset | bearer key, if the local server wants one |
 * | `LLM_REQUEST_TIMEOUT_MS` | `120s` | one HTTP request, queueing excluded |
 * | `LLM_MAX_CONCURRENCY` | `1` | requests in flight to the primary per process (one GPU) |
 * | `LLM_MAX_OUTPUT_RETRIES` | `2` | extra attempts after invalid/truncated output |
 * | `LLM_UNAVAILABLE_RETRIES` | `1` | extra attempts on one endpoint after a 5xx/connection error |
 * | `LLM_UNAVAILABLE_RETRY_DELAY_MS` | `1s` | pause before such an attempt |
 * | `LLM_BREAKER_FAILURE_PERCENT` | `50` | unavailability percentage that opens a breaker |
 * | `LLM_BREAKER_MINIMUM_CALLS` | `3` | calls in the window before the percentage counts |
 * | `LLM_BREAKER_WINDOW_MS` | `5m` | rolling window |
 * | `LLM_BREAKER_RESET_MS` | `30s` | open → half-open (one probe) after this |
 * | `LLM_FALLBACK_ENDPOINT` | unset | OpenAI-compatible base URL used while the primary is unavailable |
 * | `LLM_FALLBACK_MODEL` | unset | model there; required with the endpoint |
 * | `LLM_FALLBACK_API_KEY` / `_FILE` | unset | its bearer key, or a file holding it (a mounted secret) |
 * | `LLM_FALLBACK_MAX_CONCURRENCY` | `4` | requests in flight to the fallback per process |
 */
export const llmEnv = z.object({
  LOCAL_LLM_ENDPOINT: envUrl({ protocols: ['http', 'https'] }).default(DEFAULT_LOCAL_LLM_ENDPOINT),
  LOCAL_LLM_MODEL: z.string().trim().min(1, 'expected a model id as GET /v1/models lists it'),
  LOCAL_LLM_API_KEY: z.string().optional(),
  LOCAL_LLM_API_KEY_FILE: z.string().optional(),
  // Node's fetch stops waiting for headers after 300 s whatever we ask, so longer would be a lie.
  LLM_REQUEST_TIMEOUT_MS: envDurationMs()
    .refine((ms) => ms >= 100 && ms <= 300_000, 'expected a duration between 100 ms and 5 min')
    .default(120_000),
  LLM_MAX_CONCURRENCY: envInt({ min: 1, max: 64 }).default(1),
  LLM_MAX_OUTPUT_RETRIES: envInt({ min: 0, max: 10 }).default(2),
  LLM_UNAVAILABLE_RETRIES: envInt({ min: 0, max: 5 }).default(1),
  LLM_UNAVAILABLE_RETRY_DELAY_MS: envDurationMs()
    .refine((ms) => ms <= 60_000, 'expected a duration up to 1 min')
    .default(1_000),
  LLM_BREAKER_FAILURE_PERCENT: envInt({ min: 1, max: 100 }).default(50),
  LLM_BREAKER_MINIMUM_CALLS: envInt({ min: 1 }).default(3),
  LLM_BREAKER_WINDOW_MS: envDurationMs()
    .refine((ms) => ms >= 1_000, 'expected a duration of at least 1 s')
    .default(300_000),
  LLM_BREAKER_RESET_MS: envDurationMs()
    .refine((ms) => ms >= 100, 'expected a duration of at least 100 ms')
    .default(30_000),
  LLM_FALLBACK_ENDPOINT: envUrl({ protocols: ['http', 'https'] }).optional(),
  LLM_FALLBACK_MODEL: z.string().trim().min(1).optional(),
  LLM_FALLBACK_API_KEY: z.string().optional(),
  LLM_FALLBACK_API_KEY_FILE: z.string().optional(),
  LLM_FALLBACK_MAX_CONCURRENCY: envInt({ min: 1, max: 64 }).default(4),
});

/** The parsed {@link llmEnv}. */
export type LlmEnv = z.output<typeof llmEnv>;

/** Rules between the variables of {@link llmEnv}; empty when the combination is sound. */
export function llmEnvIssues(env: LlmEnv): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (env.LLM_FALLBACK_ENDPOINT !== undefined && env.LLM_FALLBACK_MODEL === undefined) {
    issues.push({ variable: 'LLM_FALLBACK_MODEL', reason: 'required when LLM_FALLBACK_ENDPOINT is set' });
  }
  if (env.LLM_FALLBACK_ENDPOINT === undefined) {
    for (const variable of [
      'LLM_FALLBACK_MODEL',
      'LLM_FALLBACK_API_KEY',
      'LLM_FALLBACK_API_KEY_FILE',
    ] as const) {
      if (env[variable] !== undefined) {
        issues.push({ variable, reason: 'set without LLM_FALLBACK_ENDPOINT (no fallback is configured)' });
      }
    }
  }
  for (const prefix of ['LOCAL_LLM', 'LLM_FALLBACK'] as const) {
    if (env[`${prefix}_API_KEY`] !== undefined && env[`${prefix}_API_KEY_FILE`] !== undefined) {
      issues.push({
        variable: `${prefix}_API_KEY_FILE`,
        reason: `set either ${prefix}_API_KEY or ${prefix}_API_KEY_FILE, not both`,
      });
    }
  }
  return issues;
}

/**
 * For an app's schema: `configSchema.superRefine(refineLlmEnv)` puts the rules of
 * {@link llmEnvIssues} into the boot report (`loadConfigOrExit`).
 */
export function refineLlmEnv(env: LlmEnv, ctx: z.RefinementCtx): void {
  for (const issue of llmEnvIssues(env)) {
    ctx.addIssue({ code: 'custom', message: `${issue.variable}: ${issue.reason}`, path: [] });
  }
}

/** Options of {@link llmOptionsFromEnv}. */
export interface LlmOptionsFromEnvIo {
  /**
   * Reads a key file.
   * @defaultValue `fs.readFileSync(path, 'utf8')`
   */
  readFile?: (path: string) => string;
}

/**
 * Turns the parsed env into client options (without `registry` and `logger`), reading key files.
 * Call it at boot: a missing key file fails the start, not the first job.
 *
 * @throws ConfigError (`CONFIG_INVALID`) naming the variables when {@link llmEnvIssues} finds
 *   problems or a key file cannot be read or is empty.
 */
export function llmOptionsFromEnv(
  env: LlmEnv,
  io: LlmOptionsFromEnvIo = {},
): Omit<LlmClientOptions, 'registry' | 'logger'> {
  const readFile = io.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const issues = llmEnvIssues(env);
  const key = (prefix: 'LOCAL_LLM' | 'LLM_FALLBACK'): string | undefined => {
    const direct = env[`${prefix}_API_KEY`];
    if (direct !== undefined) return direct.trim();
    const file = env[`${prefix}_API_KEY_FILE`];
    if (file === undefined) return undefined;
    try {
      // Mounted secrets usually end with a newline; a bearer token never does.
      const value = readFile(file).trim();
      if (value === '') issues.push({ variable: `${prefix}_API_KEY_FILE`, reason: `${file} is empty` });
      return value;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      issues.push({ variable: `${prefix}_API_KEY_FILE`, reason: `cannot read ${file}: ${why}` });
      return undefined;
    }
  };
  const primaryKey = key('LOCAL_LLM');
  const fallbackKey = env.LLM_FALLBACK_ENDPOINT !== undefined ? key('LLM_FALLBACK') : undefined;
  if (issues.length > 0) {
    const message = ['Invalid configuration:', ...issues.map((i) => `  - ${i.variable}: ${i.reason}`)].join(
      '\n',
    );
    throw new ConfigError('CONFIG_INVALID', message, issues);
  }
  return {
    primary: {
      url: env.LOCAL_LLM_ENDPOINT,
      model: env.LOCAL_LLM_MODEL,
      apiKey: primaryKey,
      maxConcurrency: env.LLM_MAX_CONCURRENCY,
    },
    fallback:
      env.LLM_FALLBACK_ENDPOINT !== undefined && env.LLM_FALLBACK_MODEL !== undefined
        ? {
            url: env.LLM_FALLBACK_ENDPOINT,
            model: env.LLM_FALLBACK_MODEL,
            apiKey: fallbackKey,
            maxConcurrency: env.LLM_FALLBACK_MAX_CONCURRENCY,
          }
        : undefined,
    requestTimeoutMs: env.LLM_REQUEST_TIMEOUT_MS,
    maxOutputRetries: env.LLM_MAX_OUTPUT_RETRIES,
    unavailableRetries: env.LLM_UNAVAILABLE_RETRIES,
    unavailableRetryDelayMs: env.LLM_UNAVAILABLE_RETRY_DELAY_MS,
    breaker: {
      failureThresholdPercent: env.LLM_BREAKER_FAILURE_PERCENT,
      minimumCalls: env.LLM_BREAKER_MINIMUM_CALLS,
      windowMs: env.LLM_BREAKER_WINDOW_MS,
      resetTimeoutMs: env.LLM_BREAKER_RESET_MS,
    },
  };
}
