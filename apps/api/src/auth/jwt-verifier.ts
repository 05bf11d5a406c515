import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  type JWTPayload,
} from 'jose';
import { LRUCache } from 'lru-cache';
import { userIdSchema } from '../chat/chat.schemas';
import { type JwtAlgorithm } from '../config';
import { LONE_SURROGATE } from '../http/input';
import { AuthError } from './auth.errors';

/** Where verification keys come from: exactly one asymmetric source, plus the HS256 secret when allowed. */
export interface JwtKeySource {
  /** PEM: an SPKI public key or an X.509 certificate. */
  publicKeyPem?: string;
  jwks?: JSONWebKeySet;
  /** HS256 shared secret (only used when `algorithms` has HS256). */
  secret?: string;
}

export interface JwtVerifierOptions {
  /** Allow-list; a token with any other `alg` (including `none`) is refused. */
  algorithms: readonly JwtAlgorithm[];
  issuer: string;
  audience: string;
  /** Leeway for `exp` and `nbf`. */
  clockToleranceS: number;
  keys: JwtKeySource;
  /**
   * How many verified tokens to remember (0: none). A token seen again, byte for byte, is not
   * verified again until it expires: its signature, `iss`, `aud` and `sub` cannot have changed, and
   * `exp`/`nbf` are checked against the clock on every use. @defaultValue 10000
   */
  cacheSize?: number;
}

/** What a verified token grants, and until when (epoch seconds, tolerance included). */
interface Verified {
  principal: Principal;
  validFrom: number;
  validUntil: number;
}

/** Longer tokens are verified every time rather than kept. */
const MAX_CACHED_TOKEN_LENGTH = 4_096;

/** The authenticated caller. */
export interface Principal {
  /** The token's `sub`: our user id. */
  userId: string;
  /**
   * The token's `scope` claim (RFC 8693 §4.2: space-separated), empty without one. Operator routes
   * require {@link OPERATOR_SCOPE}.
   */
  scopes: readonly string[];
}

/** What operator routes (`POST /v1/pool-jobs`, `POST /v1/campaigns`) require in the token's `scope`. */
export const OPERATOR_SCOPE = 'fleet:operator';

/**
 * What the admin routes (`/v1/admin/*`: dead letters and redrive, event life, breakers, audit)
 * and the ops console require. A role of its own: an operator who tops up pools cannot redrive.
 */
export const ADMIN_SCOPE = 'fleet:admin';

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 §3.3 scope-token
const MAX_SCOPES = 32;

const BEARER = /^Bearer +([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*\.[A-Za-z0-9\-_]*) *$/;
const MAX_SUB_LENGTH = 200;

/**
 * Verifies bearer JWTs: signature with the configured key for the token's `alg` (allow-list
 * first, so `none` and algorithm-confusion tokens never reach a key), then `iss`, `aud`, `exp`
 * (required) and `nbf` with a small clock tolerance, and a `sub` usable as a user id.
 */
export class JwtVerifier {
  private readonly getKey: JWTVerifyGetKey;
  private readonly verified: LRUCache<string, Verified> | undefined;

  constructor(private readonly options: JwtVerifierOptions) {
    const { keys } = options;
    const jwks = keys.jwks ? createLocalJWKSet(keys.jwks) : undefined;
    const publicKey: KeyObject | undefined = keys.publicKeyPem
      ? createPublicKey(keys.publicKeyPem)
      : undefined;
    const secret = keys.secret ? new TextEncoder().encode(keys.secret) : undefined;
    const cacheSize = options.cacheSize ?? 10_000;
    // An ES256 signature check was ~30 % of the api's CPU per accepted message (0.39 → 0.27 ms
    // without it), and clients send one token with many requests. Keys are fixed for the process.
    this.verified = cacheSize > 0 ? new LRUCache({ max: cacheSize }) : undefined;
    this.getKey = async (header, token) => {
      if (header.alg === 'HS256') {
        if (!secret) throw new errors.JOSEAlgNotAllowed('HS256 is not configured');
        return secret;
      }
      if (jwks) return jwks(header, token);
      if (publicKey) return publicKey;
      throw new errors.JOSEAlgNotAllowed(`no key configured for ${header.alg}`);
    };
  }

  /** How many verified tokens are remembered now. */
  get cachedTokens(): number {
    return this.verified?.size ?? 0;
  }

  /** Verifies an `Authorization` header value. @throws {@link AuthError} */
  async verifyAuthorization(header: string | undefined): Promise<Principal> {
    if (header === undefined || header.trim() === '') {
      throw new AuthError('TOKEN_MISSING', 'missing bearer token');
    }
    const match = BEARER.exec(header);
    if (!match) {
      throw new AuthError('AUTHORIZATION_MALFORMED', 'expected "Authorization: Bearer <JWT>"');
    }
    return this.verifyToken(match[1]!);
  }

  /** Verifies a compact JWT. @throws {@link AuthError} */
  async verifyToken(token: string): Promise<Principal> {
    const now = Math.floor(Date.now() / 1000); // as jose counts
    const known = this.verified?.get(token);
    if (known && known.validFrom <= now && now < known.validUntil) return known.principal;
    // Expired or not yet valid: verified again below, which names the reason.
    if (known) this.verified!.delete(token);
    const { principal, payload } = await this.verifyFully(token);
    if (this.verified && token.length <= MAX_CACHED_TOKEN_LENGTH) {
      const tolerance = this.options.clockToleranceS;
      this.verified.set(token, {
        principal,
        validFrom: payload.nbf === undefined ? -Infinity : payload.nbf - tolerance,
        validUntil: payload.exp! + tolerance,
      });
    }
    return principal;
  }

  private async verifyFully(token: string): Promise<{ principal: Principal; payload: JWTPayload }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        algorithms: [...this.options.algorithms],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw toAuthError(error);
    }
    const sub = payload.sub!;
    if (
      sub.length === 0 ||
      sub.length > MAX_SUB_LENGTH ||
      LONE_SURROGATE.test(sub) ||
      !userIdSchema.safeParse(sub).success
    ) {
      // The same rule as participant ids, so every authenticated user can be a participant.
      throw new AuthError(
        'TOKEN_CLAIM_INVALID',
        `sub must be 1–${MAX_SUB_LENGTH} printable characters without spaces`,
      );
    }
    return { principal: { userId: sub, scopes: scopesOf(payload.scope) }, payload };
  }
}

function scopesOf(claim: unknown): readonly string[] {
  if (claim === undefined) return [];
  const scopes = typeof claim === 'string' ? claim.split(' ').filter((s) => s.length > 0) : undefined;
  if (!scopes || scopes.length > MAX_SCOPES || !scopes.every((s) => SCOPE_TOKEN.test(s))) {
    throw new AuthError(
      'TOKEN_CLAIM_INVALID',
      `scope must be a string of at most ${MAX_SCOPES} space-separated scope tokens (RFC 6749 §3.3)`,
    );
  }
  return [...new Set(scopes)];
}

function toAuthError(error: unknown): AuthError {
  if (error instanceof errors.JWTExpired)
    return new AuthError('TOKEN_EXPIRED', 'token expired', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') {
      return new AuthError('TOKEN_NOT_YET_VALID', 'token not yet valid (nbf)', { cause: error });
    }
    return new AuthError('TOKEN_CLAIM_INVALID', `${error.claim} claim invalid: ${error.reason}`, {
      cause: error,
    });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AuthError('TOKEN_ALGORITHM_NOT_ALLOWED', 'token algorithm not allowed', { cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError('TOKEN_SIGNATURE_INVALID', 'token signature invalid', { cause: error });
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthError('TOKEN_KEY_UNKNOWN', 'no configured key matches the token', { cause: error });
  }
  if (error instanceof errors.JOSEError || error instanceof TypeError) {
    return new AuthError('TOKEN_MALFORMED', 'token malformed', { cause: error });
  }
  throw error;
}

/** The key source named by the config (one of PEM, PEM file, JWKS file, dev key dir) and the HS256 secret. */
export function readKeySource(config: {
  AUTH_JWT_PUBLIC_KEY?: string;
  AUTH_JWT_PUBLIC_KEY_FILE?: string;
  AUTH_JWKS_FILE?: string;
  AUTH_JWT_SECRET?: string;
}): JwtKeySource {
  const keys: JwtKeySource = {};
  if (config.AUTH_JWT_PUBLIC_KEY) keys.publicKeyPem = config.AUTH_JWT_PUBLIC_KEY.replace(/\\n/g, '\n');
  if (config.AUTH_JWT_PUBLIC_KEY_FILE)
    keys.publicKeyPem = readFileSync(config.AUTH_JWT_PUBLIC_KEY_FILE, 'utf8');
  if (config.AUTH_JWKS_FILE)
    keys.jwks = JSON.parse(readFileSync(config.AUTH_JWKS_FILE, 'utf8')) as JSONWebKeySet;
  if (config.AUTH_JWT_SECRET) keys.secret = config.AUTH_JWT_SECRET;
  return keys;
}
