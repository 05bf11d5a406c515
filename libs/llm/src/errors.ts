/**
 * Why a call failed, closed:
 * - `UNAVAILABLE`: the endpoint could not answer now (timeout, connection refused/reset, 5xx, 429,
 *   an unreadable 2xx envelope, or its breaker is open). Retriable: a later attempt may succeed.
 * - `REQUEST_REJECTED`: the endpoint refused this request (4xx other than 408/429: unknown model,
 *   bad parameters, bad API key). Permanent: sending it again cannot help.
 * - `INVALID_OUTPUT`: the model answered, but every attempt was invalid JSON, did not match the
 *   schema, was truncated or a refusal. Permanent: the output retries are already spent.
 * - `MODEL_NOT_AVAILABLE`: readiness found the endpoint up but not serving the configured model.
 * - `ABORTED`: the caller's signal aborted the call (shutdown, job cancelled).
 */
export type LlmErrorCode =
  'UNAVAILABLE' | 'REQUEST_REJECTED' | 'INVALID_OUTPUT' | 'MODEL_NOT_AVAILABLE' | 'ABORTED';

/** Which configured endpoint a call went to. */
export type LlmEndpointRole = 'primary' | 'fallback';

/**
 * Base error of `@fleet/llm`: callers branch on `code` (or `retriable`), never on the message.
 * `retriable` is what the Kafka runtime reads to choose between retry and the DLQ.
 */
export abstract class LlmError extends Error {
  abstract readonly code: LlmErrorCode;
  abstract readonly retriable: boolean;
}

/**
 * Why an endpoint was unavailable; also the `class` label of `llm_errors_total`.
 * `breaker_open` means no request was sent at all.
 */
export type UnavailableReason =
  'timeout' | 'connection' | 'server_error' | 'rate_limited' | 'bad_response' | 'breaker_open';

/** The endpoint could not answer now. Retriable; counts against the endpoint's breaker. */
export class LlmUnavailableError extends LlmError {
  readonly code = 'UNAVAILABLE';
  readonly retriable = true;
  readonly status: number | undefined;
  /** The earliest a retry makes sense, when known (`Retry-After`, an open breaker's reset time). */
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly reason: UnavailableReason,
    readonly endpoint: LlmEndpointRole,
    message: string,
    details: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LlmUnavailableError';
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The endpoint refused this request (4xx). Permanent; never counts against the breaker. */
export class LlmRequestError extends LlmError {
  readonly code = 'REQUEST_REJECTED';
  readonly retriable = false;

  constructor(
    readonly status: number,
    readonly endpoint: LlmEndpointRole,
    message: string,
  ) {
    super(message);
    this.name = 'LlmRequestError';
  }
}

/** Why one answer was unusable; also the `class` label of `llm_errors_total`. */
export type OutputFailureReason = 'invalid_json' | 'schema_mismatch' | 'truncated' | 'refusal' | 'empty';

/** One unusable answer: why, a readable detail, and the start of what the model said. */
export interface OutputFailure {
  reason: OutputFailureReason;
  detail: string;
  /** The first characters of the answer's content (for logs and DLQ reasons). */
  excerpt: string;
  endpoint: LlmEndpointRole;
}

/**
 * Every attempt answered, none usably (1 + `maxOutputRetries` answers). Permanent: the model was
 * asked enough times. `reason` is the last attempt's; `failures` has them all, in order.
 */
export class LlmOutputError extends LlmError {
  readonly code = 'INVALID_OUTPUT';
  readonly retriable = false;
  readonly reason: OutputFailureReason;

  constructor(
    readonly schemaName: string,
    readonly failures: readonly OutputFailure[],
  ) {
    const last = failures[failures.length - 1];
    super(
      `LLM output for "${schemaName}" unusable after ${failures.length} attempt(s): ${last.reason}: ${last.detail}`,
    );
    this.name = 'LlmOutputError';
    this.reason = last.reason;
  }

  /** How many answers were rejected (= attempts made). */
  get attempts(): number {
    return this.failures.length;
  }
}

/** Readiness: the endpoint answers but does not list the configured model. */
export class LlmModelNotAvailableError extends LlmError {
  readonly code = 'MODEL_NOT_AVAILABLE';
  // The operator can load the model (LM Studio) without restarting us: readiness keeps probing.
  readonly retriable = true;

  constructor(
    readonly model: string,
    readonly endpointUrl: string,
    readonly available: readonly string[],
  ) {
    super(
      `model "${model}" is not served by ${endpointUrl}; available: ${
        available.length > 0 ? available.map((m) => `"${m}"`).join(', ') : '(none)'
      } — load it in LM Studio or set LOCAL_LLM_MODEL to one of these`,
    );
    this.name = 'LlmModelNotAvailableError';
  }
}

/** The caller's signal aborted the call; no error of the endpoint. */
export class LlmAbortedError extends LlmError {
  readonly code = 'ABORTED';
  // Whoever aborted (a shutdown) leaves the job for another attempt.
  readonly retriable = true;

  constructor(message = 'LLM call aborted by the caller', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlmAbortedError';
  }
}
