/**
 * - `LOCK_LOST`: a drain step was refused because the caller no longer holds the drain lock (it
 *   expired, or another replica took it over). The caller must stop draining; nothing was changed.
 * - `RECORD_NOT_ENCODABLE`: a record cannot be stored as a fallback record without changing it
 *   (null value, bytes that are not UTF-8, a header with several values).
 * - `UNEXPECTED_REPLY`: Redis answered a script with a shape this lib does not know (a bug, or a
 *   foreign script under the same name).
 */
export type RedisRuntimeErrorCode = 'LOCK_LOST' | 'RECORD_NOT_ENCODABLE' | 'UNEXPECTED_REPLY';

/** Base error of this lib: callers branch on `code`, never on the message. */
export class RedisRuntimeError extends Error {
  constructor(
    readonly code: RedisRuntimeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RedisRuntimeError';
  }
}
