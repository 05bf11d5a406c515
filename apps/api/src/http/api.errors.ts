/** Closed set of error codes the api answers with (the `error.code` of every error body). */
export type ApiErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION_FAILED'
  | 'INVALID_JSON'
  | 'EMPTY_BODY'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_STRING'
  | 'TEXT_TOO_LONG'
  | 'INVALID_ID'
  | 'IDEMPOTENCY_KEY_MISSING'
  | 'IDEMPOTENCY_KEY_INVALID'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'METHOD_NOT_ALLOWED'
  | 'RATE_LIMITED'
  | 'WEBHOOK_SIGNATURE_INVALID'
  | 'WEBHOOK_VERIFY_FAILED'
  | 'WEBHOOK_PAYLOAD_INVALID'
  | 'WEBHOOK_NOT_CONFIGURED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL'
  // Chunked uploads.
  | 'UPLOAD_TOO_LARGE'
  | 'CONTENT_TYPE_NOT_ALLOWED'
  | 'LENGTH_REQUIRED'
  | 'CHUNK_INDEX_INVALID'
  | 'CHUNK_SIZE_MISMATCH'
  | 'CHUNK_CHECKSUM_MISMATCH'
  | 'CONTENT_MISMATCH'
  | 'CHUNK_CONFLICT'
  | 'UPLOAD_NOT_UPLOADING'
  | 'UPLOAD_INCOMPLETE'
  | 'UPLOAD_FAILED'
  | 'UPLOAD_NOT_COMPLETED'
  | 'REQUEST_ABORTED'
  | 'STORAGE_UNAVAILABLE'
  // Jobs, stories and map documents.
  | 'STORY_CONTENT_TOO_LARGE'
  | 'DOCUMENT_TOO_LARGE'
  | 'DOCUMENT_EMPTY'
  | 'DOCUMENT_NOT_TEXT'
  | 'JOB_FINISHED'
  | 'NOT_ACCEPTABLE'
  // Content pools.
  | 'POOL_EMPTY'
  // Export bundles.
  | 'PROJECT_NOT_FOUND'
  | 'PROJECT_NOT_COMPLETED'
  | 'MANIFEST_TOO_LARGE'
  | 'CALLBACK_URL_INVALID'
  | 'CALLBACK_URL_REFUSED';

/**
 * The JSON body of every error: `{ error: { code, message, details? } }`. A few errors repeat one
 * field of their details beside `error` where clients act on it (`missing` of UPLOAD_INCOMPLETE).
 */
export interface ApiErrorBody {
  error: { code: ApiErrorCode | string; message: string; details?: unknown };
  [field: string]: unknown;
}

/** An error the api answers on purpose, with its status and code; anything else is a 500. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
    /** Extra response headers (`WWW-Authenticate`, `Retry-After`). */
    readonly headers: Record<string, string> = {},
    /** Fields beside `error` in the body (never `error` itself). */
    readonly topLevel: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ApiErrorBody {
    return {
      ...this.topLevel,
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export const badRequest = (code: ApiErrorCode, message: string, details?: unknown) =>
  new ApiError(400, code, message, details);
export const notFound = (message: string) => new ApiError(404, 'NOT_FOUND', message);
export const forbidden = (message: string) => new ApiError(403, 'FORBIDDEN', message);
