/**
 * Errors that steer the consumer loop. A handler signals its intent by what it throws:
 *
 * - {@link NonRetriableError} (or any error with `retriable === false`): no retry will fix it → DLQ now.
 * - {@link RetriableError} (or any other `Error`): transient → retry with backoff, then DLQ.
 * - A programmer error (`TypeError`, `ReferenceError`, …): a bug, not a condition → the process
 *   fails loudly and the message is not committed, so it is redelivered once the bug is fixed.
 */

export type KafkaRuntimeErrorCode =
  'KEY_REQUIRED' | 'PAYLOAD_INVALID' | 'PRODUCER_NOT_CONNECTED' | 'PROVISIONING_FAILED' | 'SHUTDOWN_TIMEOUT';

/** Base error of this lib: callers branch on `code`, never on the message. */
export class KafkaRuntimeError extends Error {
  constructor(
    readonly code: KafkaRuntimeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KafkaRuntimeError';
  }
}

/** Thrown by a handler when the message can never succeed (bad reference, rule violation). */
export class NonRetriableError extends Error {
  readonly retriable = false;
  constructor(
    message: string,
    /** A short machine-readable reason, recorded in the DLQ record. */
    readonly code: string = 'NON_RETRIABLE',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NonRetriableError';
  }
}

/** Thrown by a handler when the failure is transient (a dependency is down, a lock is held). */
export class RetriableError extends Error {
  readonly retriable = true;
  /**
   * The earliest the retry may run, when the failing side said so (an HTTP `Retry-After`): the
   * retry waits for the longer of this and the policy's backoff.
   */
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    readonly code: string = 'RETRIABLE',
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.name = 'RetriableError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** The delay a failed handler asked for, if any (see {@link RetriableError.retryAfterMs}). */
export function retryAfterMsOf(error: unknown): number {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Built-in error types that mean "the code is wrong", never "the world is unlucky". */
const PROGRAMMER_ERRORS: ReadonlyArray<new (...args: never[]) => Error> = [
  TypeError,
  ReferenceError,
  RangeError,
  SyntaxError,
  EvalError,
  URIError,
];

export type ErrorOutcome = 'retry' | 'dead-letter' | 'crash';

/** The one place that decides what a handler's error means. */
export function classifyHandlerError(error: unknown): ErrorOutcome {
  if (error instanceof RetriableError) return 'retry';
  if (error instanceof NonRetriableError) return 'dead-letter';
  if (typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === false) {
    return 'dead-letter';
  }
  if (PROGRAMMER_ERRORS.some((type) => error instanceof type)) return 'crash';
  return 'retry';
}

/** Socket errors of a dependency that is down or restarting (PostgreSQL, Redis, MinIO …). */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // PostgreSQL: connection exceptions (class 08), shutting down (57P01–57P03), too many clients.
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection is closed|Connection is closed|the database system is (starting up|shutting down|in recovery mode)|timeout exceeded when trying to connect|Client has encountered a connection error|Stream isn't writeable|ECONNREFUSED/i;

/**
 * Whether a handler's (unclassified) error says a dependency of the worker is unreachable — its
 * database restarting, Redis gone — rather than anything about the message. Looks through the
 * wrappers drivers and ORMs put around the socket error (`cause`, TypeORM's `driverError`,
 * `AggregateError.errors`). A handler's own {@link RetriableError} / {@link NonRetriableError}
 * is its verdict and never counts here.
 */
export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  if (error instanceof RetriableError || error instanceof NonRetriableError) return false;
  const { code, message, cause, driverError, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    driverError?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isDependencyUnavailable(e, depth + 1))) return true;
  return isDependencyUnavailable(cause, depth + 1) || isDependencyUnavailable(driverError, depth + 1);
}

/** A readable code for an arbitrary error: its own string `code` if it has one, else its class name. */
export function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.length > 0) return code;
  return error instanceof Error ? error.name : 'UNKNOWN';
}

/**
 * Broker error codes that reject one record or one topic: sending the same record again cannot
 * succeed, and they say nothing about the broker's health.
 */
const RECORD_REJECTIONS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'TOPIC_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
]);

export type PublishFailure = 'rejected' | 'unavailable';

/**
 * What a failed send means. `rejected`: the records themselves (too large, unknown topic, invalid
 * payload or missing key) — retrying them unchanged cannot help, and the broker is fine.
 * `unavailable`: anything else (connection refused, timeouts, leader moves, retries exhausted) —
 * the broker is the problem, the records are fine; this is what a circuit breaker counts.
 */
export function classifyPublishError(error: unknown): PublishFailure {
  for (let e: unknown = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof KafkaRuntimeError && (e.code === 'PAYLOAD_INVALID' || e.code === 'KEY_REQUIRED')) {
      return 'rejected';
    }
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && RECORD_REJECTIONS.has(type)) return 'rejected';
  }
  return 'unavailable';
}

export function errorMessageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
