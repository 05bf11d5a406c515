/**
 * - `JOB_INVALID`: an argument the caller should never have passed (a kind that is not snake_case,
 *   progress outside 0–100, a lease of 0 ms, an input that is not JSON); nothing was changed.
 * - `JOB_NOT_IN_TRANSACTION`: a method that writes a job and its outbox event together was given a
 *   manager outside a transaction; nothing was changed.
 * - `JOB_LEASE_LOST`: {@link withLease}: the lease could not be renewed (the job was reaped,
 *   cancelled or finished elsewhere, or the database was unreachable for a whole lease); the work
 *   was aborted. Another worker may own the job now: do not complete or fail it.
 * - `JOB_EVENT_INVALID`: a progress event does not match `jobEventSchema` (emit's input, or an
 *   entry read back from Redis).
 * - `JOB_UNEXPECTED_REPLY`: Redis answered a script with a shape this lib does not know.
 */
export type JobErrorCode =
  'JOB_INVALID' | 'JOB_NOT_IN_TRANSACTION' | 'JOB_LEASE_LOST' | 'JOB_EVENT_INVALID' | 'JOB_UNEXPECTED_REPLY';

/** Base error of `@fleet/jobs`: branch on `code`. None is retriable by repeating the same call. */
export class JobError extends Error {
  override readonly name = 'JobError';
  readonly retriable = false;

  constructor(
    readonly code: JobErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
