import { JobError } from '@fleet/jobs';
import { LlmError } from '@fleet/llm';

/**
 * A job no retry can fix (its input is malformed, what it refers to is gone): the job is FAILED at
 * once and its request dead-lettered with `code`.
 */
export class JobRejected extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'JobRejected';
  }
}

/**
 * An attempt that failed in a way another attempt may not (a model that kept producing unusable
 * items): retried while the job has attempts left, then FAILED with `code`.
 */
export class JobAttemptFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'JobAttemptFailed';
  }
}

/** Why one attempt of a job ended without a result, as stored in the job's `error`. */
export interface AttemptFailure {
  /** Another attempt may succeed (the job goes back to PENDING while it has attempts left). */
  retriable: boolean;
  /** Machine-readable, also the DLQ record's `x-dlq-error-code`. */
  code: string;
  /** For people: the job's `error`, the `job_failed` event, the DLQ record. */
  message: string;
  /** The failing side asked to wait at least this long (an open breaker, a 429). */
  retryAfterMs?: number;
}

/** Built-in error types that mean "our code is wrong": they must crash loudly, not fail a job. */
const PROGRAMMER_ERRORS: ReadonlyArray<new (...args: never[]) => Error> = [
  TypeError,
  ReferenceError,
  RangeError,
  SyntaxError,
  EvalError,
  URIError,
];

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * What an error thrown by a job's work means for the job, or `'crash'` for a programmer error
 * (the runtime exits, the job's lease runs out and the reaper gives it to another worker):
 *
 * - {@link JobRejected}: permanent, its code; {@link JobAttemptFailed}: retriable, its code;
 * - LLM unavailable (connection refused, timeout, 5xx, 429, breaker open) and a model not loaded:
 *   retriable, `LLM_UNAVAILABLE` — after the last attempt the job ends FAILED with
 *   "LLM unavailable: …" instead of retrying forever;
 * - LLM output still unusable after the client's own retries: retriable at the job level
 *   (`LLM_INVALID_OUTPUT`: a new attempt samples again), FAILED after the last;
 * - LLM request rejected (4xx: unknown model, bad parameters): permanent, `LLM_REQUEST_REJECTED`;
 * - anything else (PostgreSQL, MinIO): retriable, `DEPENDENCY_FAILED`.
 */
export function classifyFailure(error: unknown): AttemptFailure | 'crash' {
  if (error instanceof JobRejected) return { retriable: false, code: error.code, message: error.message };
  if (error instanceof JobAttemptFailed) return { retriable: true, code: error.code, message: error.message };
  if (error instanceof LlmError) {
    switch (error.code) {
      case 'UNAVAILABLE': {
        const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
        return {
          retriable: true,
          code: 'LLM_UNAVAILABLE',
          message: `LLM unavailable: ${error.message}`,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        };
      }
      case 'MODEL_NOT_AVAILABLE':
        return { retriable: true, code: 'LLM_UNAVAILABLE', message: `LLM unavailable: ${error.message}` };
      case 'INVALID_OUTPUT':
        return {
          retriable: true,
          code: 'LLM_INVALID_OUTPUT',
          message: `LLM output invalid: ${error.message}`,
        };
      case 'REQUEST_REJECTED':
        return {
          retriable: false,
          code: 'LLM_REQUEST_REJECTED',
          message: `LLM rejected the request: ${error.message}`,
        };
      case 'ABORTED':
        return { retriable: true, code: 'ABORTED', message: error.message };
    }
  }
  if (error instanceof JobError) {
    // JOB_LEASE_LOST is handled before classification; the others are misuse of the job store.
    return 'crash';
  }
  if (PROGRAMMER_ERRORS.some((type) => error instanceof type)) return 'crash';
  return { retriable: true, code: 'DEPENDENCY_FAILED', message: messageOf(error) };
}
