import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
} from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import { JWT_VERIFIER } from '../app.tokens';
import { ApiError } from '../http/api.errors';
import { AuthError } from './auth.errors';
import { type JwtVerifier, type Principal } from './jwt-verifier';

/** What the `onRequest` hook found in the `Authorization` header (verified once per request). */
export type AuthResult = { principal: Principal } | { error: AuthError };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook before rate limiting (which keys on the user when there is one). */
    auth?: AuthResult;
  }
}

/**
 * Resolves the caller once, early (an `onRequest` hook), so the rate limiter can key on the user
 * and the guard needs no second verification. Never rejects: a route decides whether it needs a user.
 */
export async function resolveAuth(verifier: JwtVerifier, request: FastifyRequest): Promise<void> {
  try {
    request.auth = { principal: await verifier.verifyAuthorization(request.headers.authorization) };
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    request.auth = { error };
  }
}

/** Lets a request through only with a valid bearer token; else 401 with `WWW-Authenticate`. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(@Inject(JWT_VERIFIER) private readonly verifier: JwtVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!request.auth) await resolveAuth(this.verifier, request);
    const auth = request.auth!;
    if ('error' in auth) throw auth.error;
    return true;
  }
}

/**
 * Lets through only a caller whose token grants `scope`; use after {@link AuthGuard}
 * (`@UseGuards(AuthGuard, new ScopeGuard(OPERATOR_SCOPE))`). Else 403 `FORBIDDEN` with
 * `WWW-Authenticate: Bearer error="insufficient_scope"` naming the scope (RFC 6750 §3.1).
 */
export class ScopeGuard implements CanActivate {
  constructor(private readonly scope: string) {}

  canActivate(context: ExecutionContext): boolean {
    const auth = context.switchToHttp().getRequest<FastifyRequest>().auth;
    if (!auth || 'error' in auth) throw new Error('ScopeGuard used without AuthGuard before it');
    if (auth.principal.scopes.includes(this.scope)) return true;
    throw new ApiError(
      403,
      'FORBIDDEN',
      `this route requires the "${this.scope}" scope in the bearer token`,
      { requiredScope: this.scope },
      {
        'www-authenticate': `Bearer realm="api", error="insufficient_scope", scope="${this.scope}"`,
      },
    );
  }
}

/** The authenticated caller of a route behind {@link AuthGuard}. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const auth = context.switchToHttp().getRequest<FastifyRequest>().auth;
  if (!auth || 'error' in auth) throw new Error('CurrentUser used on a route without AuthGuard');
  return auth.principal;
});
