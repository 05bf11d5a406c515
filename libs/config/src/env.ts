import { z } from 'zod';

// Each builder parses the raw string of one environment variable. Their messages say what was
// expected; `parseConfig` appends what it got, so the two never disagree.

/** Bounds for {@link envInt}. */
export interface EnvIntOptions {
  /**
   * Smallest accepted value.
   * @defaultValue no lower bound
   */
  min?: number;
  /**
   * Largest accepted value.
   * @defaultValue no upper bound
   */
  max?: number;
}

/** An integer such as `8080`; decimals, exponents and trailing garbage are rejected. */
export function envInt({ min, max }: EnvIntOptions = {}) {
  const expected =
    min !== undefined && max !== undefined
      ? `expected an integer between ${min} and ${max}`
      : min !== undefined
        ? `expected an integer >= ${min}`
        : max !== undefined
          ? `expected an integer <= ${max}`
          : 'expected an integer';
  return z.string().transform((raw, ctx) => {
    const value = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < (min ?? -Infinity) || value > (max ?? Infinity)) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return value;
  });
}

/** A TCP port, 1–65535. */
export function envPort() {
  return envInt({ min: 1, max: 65535 });
}

const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, '1': true, false: false, '0': false };

/** `true`/`false`/`1`/`0`, case-insensitive. Anything else is an error rather than `false`. */
export function envBoolean() {
  return z.string().transform((raw, ctx) => {
    const value = BOOLEANS[raw.trim().toLowerCase()];
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected true, false, 1 or 0' });
      return z.NEVER;
    }
    return value;
  });
}

/** A comma-separated list such as `kafka-1:9092, kafka-2:9092`; items are trimmed, empty items dropped. */
export function envList() {
  return z.string().transform((raw, ctx) => {
    const items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    if (items.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'expected a comma-separated list with at least one item' });
      return z.NEVER;
    }
    return items;
  });
}

/** Options for {@link envUrl}. */
export interface EnvUrlOptions {
  /**
   * Accepted schemes, without the colon (`['http', 'https']`).
   * @defaultValue any scheme
   */
  protocols?: readonly string[];
}

/** An absolute URL, returned as the trimmed string so drivers get exactly what the operator wrote. */
export function envUrl({ protocols }: EnvUrlOptions = {}) {
  const expected = protocols
    ? `expected an absolute ${protocols.join(' or ')} URL`
    : 'expected an absolute URL';
  return z.string().transform((raw, ctx) => {
    const url = URL.parse(raw.trim());
    if (!url || (protocols && !protocols.includes(url.protocol.slice(0, -1)))) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return raw.trim();
  });
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A duration, parsed to milliseconds: a bare integer is milliseconds (`1500`), or an integer with
 * a unit (`500ms`, `30s`, `5m`, `1h`). Name such variables with an `_MS` suffix: the parsed value is ms.
 */
export function envDurationMs() {
  return z.string().transform((raw, ctx) => {
    const match = /^(\d+)\s*(ms|s|m|h)?$/.exec(raw.trim());
    const value = match ? Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 'ms'] : Number.NaN;
    if (!Number.isSafeInteger(value)) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration such as 1500, 500ms, 30s, 5m or 1h' });
      return z.NEVER;
    }
    return value;
  });
}

/** pino's level names, lowest volume first. */
export const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * Variables every service reads. Apps extend it with their own and may give `HEALTH_PORT` a
 * default there: `baseServiceEnv.extend({ HEALTH_PORT: envPort().default(9464), KAFKA_BROKERS: envList() })`.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `SERVICE_NAME` | required | lowercase name used in logs, metrics and traces |
 * | `LOG_LEVEL` | `info` | one of {@link LOG_LEVELS} |
 * | `HEALTH_PORT` | required | port of the `/health` and `/metrics` listener |
 * | `HEALTH_HOST` | `127.0.0.1` | interface of that listener; `0.0.0.0` in containers |
 * | `OTEL_EXPORTER_OTLP_ENDPOINT` | unset | OTLP/HTTP base URL; tracing is off when unset |
 * | `OTEL_ENABLED` | `true` | set `false` to turn tracing off even with an endpoint |
 */
export const baseServiceEnv = z.object({
  SERVICE_NAME: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'expected lowercase letters, digits and dashes, starting with a letter'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  HEALTH_PORT: envPort(),
  HEALTH_HOST: z.string().default('127.0.0.1'),
  OTEL_EXPORTER_OTLP_ENDPOINT: envUrl({ protocols: ['http', 'https'] }).optional(),
  OTEL_ENABLED: envBoolean().default(true),
});

/** The parsed {@link baseServiceEnv}. */
export type BaseServiceEnv = z.output<typeof baseServiceEnv>;
