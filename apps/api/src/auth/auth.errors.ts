/**
 * Why a request is not authenticated. The code goes into the 401 body and picks the
 * `WWW-Authenticate: Bearer error=…` parameter (RFC 6750 §3.1): `invalid_request` when there is no
 * usable `Authorization: Bearer` header, `invalid_token` for a token that fails verification.
 */
export type AuthErrorCode =
  | 'TOKEN_MISSING'
  | 'AUTHORIZATION_MALFORMED'
  | 'TOKEN_MALFORMED'
  | 'TOKEN_ALGORITHM_NOT_ALLOWED'
  | 'TOKEN_SIGNATURE_INVALID'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'TOKEN_CLAIM_INVALID'
  | 'TOKEN_KEY_UNKNOWN';

export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
  }

  /** The RFC 6750 error parameter. */
  get bearerError(): 'invalid_request' | 'invalid_token' {
    return this.code === 'TOKEN_MISSING' || this.code === 'AUTHORIZATION_MALFORMED'
      ? 'invalid_request'
      : 'invalid_token';
  }

  /** The `WWW-Authenticate` header value for a 401 with this error. */
  get challenge(): string {
    const description = this.message.replace(/["\\]/g, "'");
    return `Bearer realm="api", error="${this.bearerError}", error_description="${description}"`;
  }
}
