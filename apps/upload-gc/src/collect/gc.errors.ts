/**
 * Closed set of reasons a run fails; the `upload_gc_errors_total{kind}` label comes from the code.
 * - `OBJECT_STORE_FAILED`: MinIO refused or was unreachable (the bucket check, a listing, a stat,
 *   a delete); the batch's transaction is rolled back, so its uploads are retried next run.
 * - `DATABASE_FAILED`: PostgreSQL refused or was unreachable (connect, claim, commit).
 */
export type UploadGcErrorCode = 'OBJECT_STORE_FAILED' | 'DATABASE_FAILED';

/** Base error of upload-gc; the cause is kept. */
export class UploadGcError extends Error {
  override readonly name = 'UploadGcError';

  constructor(
    readonly code: UploadGcErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const ERROR_KINDS = ['object_store', 'database', 'internal'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** The `kind` label of a failure; `internal` is a bug of ours (a `TypeError`…), never a server's. */
export function errorKind(error: unknown): ErrorKind {
  if (!(error instanceof UploadGcError)) return 'internal';
  return error.code === 'OBJECT_STORE_FAILED' ? 'object_store' : 'database';
}

/** Programmer errors are never blamed on a server (kafkajs' taxonomy, STYLE.md). */
export function isProgrammerError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError
  );
}

/** The message with its causes' (`a: b: c`), for span statuses; logs get the same from pino. */
export function messageOf(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 5; e = (e as { cause?: unknown }).cause) {
    parts.push(e instanceof Error ? e.message : String(e));
    if (!(e instanceof Error)) break;
  }
  return parts.join(': ');
}
