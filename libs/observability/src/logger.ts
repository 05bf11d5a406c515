import { hostname } from 'node:os';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';

/** pino's level names. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** One log method: `log({ orderId }, 'order placed')` or `log('started')`. Errors go under `err`. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * The logger every lib and app takes. Structural, so a pino logger satisfies it and no one but
 * this lib imports pino.
 */
export interface Logger {
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
  /** A logger whose lines all carry `bindings`. */
  child(bindings: Record<string, unknown>): Logger;
}

/** Where log lines go: anything with a `write(line)` method. */
export interface LogDestination {
  write(line: string): void;
}

/**
 * Paths always redacted, in pino's path syntax (`*` matches one level, not any depth): secrets
 * at the top level and one level down, and credentials in request headers.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  ...[
    'password',
    'token',
    'accessToken',
    'refreshToken',
    'secret',
    'clientSecret',
    'apiKey',
    'accessKey',
    'secretKey',
  ].flatMap((key) => [key, `*.${key}`]),
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Written as `service` on every line. */
  serviceName: string;
  /**
   * Lowest level written.
   * @defaultValue 'info'
   */
  level?: LogLevel;
  /**
   * Paths to redact on top of {@link DEFAULT_REDACT_PATHS}.
   * @defaultValue none
   */
  redactPaths?: readonly string[];
  /**
   * Where lines go.
   * @defaultValue stdout
   */
  destination?: LogDestination;
}

/**
 * A JSON logger: one object per line with seed 004's mandatory fields — an ISO `timestamp`, the
 * `level` in capitals (`INFO`), `service`, the `message` — and the `trace_id`/`span_id` of the
 * active span when there is one, so a log line leads to its trace.
 */
export function createLogger(options: LoggerOptions): Logger {
  const { serviceName, level = 'info', redactPaths = [], destination } = options;
  const pinoOptions: pino.LoggerOptions = {
    level,
    base: { service: serviceName, hostname: hostname() },
    timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    messageKey: 'message',
    formatters: { level: (label) => ({ level: label.toUpperCase() }) },
    redact: { paths: [...DEFAULT_REDACT_PATHS, ...redactPaths], censor: '[REDACTED]' },
    mixin: activeSpanIds,
  };
  // pino's own default destination writes stdout synchronously, so a fatal line survives exit.
  return destination ? pino(pinoOptions, destination) : pino(pinoOptions);
}

function activeSpanIds(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext)
    ? { trace_id: spanContext.traceId, span_id: spanContext.spanId }
    : {};
}
