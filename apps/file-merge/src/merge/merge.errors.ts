import { NonRetriableError, RetriableError } from '@fleet/kafka';

/**
 * Why a merge request is refused for good: the runtime dead-letters it at once (no retry), with
 * the code in `x-dlq-error-code`. For the last four the upload is also marked FAILED.
 *
 * - `UNKNOWN_UPLOAD`: no such upload in this database;
 * - `UPLOAD_NOT_COMPLETED`: the upload is still UPLOADING — its merge was never started;
 * - `CHUNKS_INVALID`: the chunk rows are not exactly `0..chunkCount-1` with the planned sizes;
 * - `CHUNK_MISSING`: a recorded chunk's object is gone from the bucket;
 * - `SIZE_MISMATCH`: the composed object's size is not the upload's;
 * - `CHECKSUM_MISMATCH`: its sha256 is not the one the client announced.
 */
export type PermanentCode =
  | 'UNKNOWN_UPLOAD'
  | 'UPLOAD_NOT_COMPLETED'
  | 'CHUNKS_INVALID'
  | 'CHUNK_MISSING'
  | 'SIZE_MISMATCH'
  | 'CHECKSUM_MISMATCH';

/**
 * Why a merge failed for now: the runtime retries it with backoff, then dead-letters it
 * (`RETRIES_EXHAUSTED`). Every step is idempotent, so a retry simply starts over.
 *
 * - `DATABASE_UNAVAILABLE` / `OBJECT_STORE_UNAVAILABLE`: PostgreSQL or MinIO failed a call
 *   (unreachable, refused, timed out, bucket missing…);
 * - `MERGE_TIMEOUT`: the whole merge took longer than `FILE_MERGE_TIMEOUT_MS`;
 * - `FINAL_OBJECT_MISSING`: the composed object vanished before it was verified (a concurrent run
 *   deleted it);
 * - `MERGE_STATE_CHANGED`: the upload left MERGING in a way this run cannot explain.
 */
export type TransientCode =
  | 'DATABASE_UNAVAILABLE'
  | 'OBJECT_STORE_UNAVAILABLE'
  | 'MERGE_TIMEOUT'
  | 'FINAL_OBJECT_MISSING'
  | 'MERGE_STATE_CHANGED';

/** A merge request no retry can fix: DLQ at once. */
export class MergeRejected extends NonRetriableError {
  declare readonly code: PermanentCode;
  constructor(code: PermanentCode, message: string) {
    super(message, code);
    this.name = 'MergeRejected';
  }
}

/** A merge that may succeed later: retried with backoff, then DLQ. */
export class MergeUnavailable extends RetriableError {
  declare readonly code: TransientCode;
  constructor(code: TransientCode, message: string, cause?: unknown) {
    super(message, code, cause === undefined ? undefined : { cause });
    this.name = 'MergeUnavailable';
  }
}

/** Built-in error types that mean "our code is wrong": they must reach the runtime as they are. */
const PROGRAMMER_ERRORS: ReadonlyArray<new (...args: never[]) => Error> = [
  TypeError,
  ReferenceError,
  RangeError,
  SyntaxError,
  EvalError,
  URIError,
];

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What an error thrown by a call to PostgreSQL or MinIO means for the merge: {@link MergeUnavailable}
 * (`code`) for refused connections, resets, pool timeouts, 5xx, a missing bucket — the request is
 * fine and the world is not, so the runtime retries. Errors that already say what they are (our
 * own, and programmer errors, which must crash loudly) are returned unchanged.
 */
export function unavailable(
  code: 'DATABASE_UNAVAILABLE' | 'OBJECT_STORE_UNAVAILABLE',
  what: string,
  error: unknown,
): Error {
  if (
    error instanceof MergeRejected ||
    error instanceof MergeUnavailable ||
    PROGRAMMER_ERRORS.some((type) => error instanceof type)
  ) {
    return error as Error;
  }
  return new MergeUnavailable(code, `${what}: ${messageOf(error)}`, error);
}

/** Runs one call to PostgreSQL or MinIO, its failures classified by {@link unavailable}. */
export async function io<T>(
  code: 'DATABASE_UNAVAILABLE' | 'OBJECT_STORE_UNAVAILABLE',
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw unavailable(code, what, error);
  }
}

/** S3's answers for "no such object": the object store's own test. */
export { isNoSuchObject } from '@fleet/object-store';

/**
 * Runs `work` with a deadline; past it, rejects with {@link MergeUnavailable} `MERGE_TIMEOUT` and
 * aborts `signal`, so `work` stops before its next call. A call already under way may still finish
 * in the background: harmless, since every step of a merge can be repeated (same key, same
 * content, conditional status updates).
 */
export async function withDeadline<T>(
  timeoutMs: number,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(deadline.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          deadline.abort();
          reject(new MergeUnavailable('MERGE_TIMEOUT', `${what} took longer than ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
