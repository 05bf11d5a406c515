import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { type Logger } from '@fleet/observability';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { AuthError } from '../auth/auth.errors';
import { ApiError, type ApiErrorCode } from './api.errors';

/** Fastify's own client errors (body parsing, limits) and the code we answer them with. */
const FASTIFY_CODES: Readonly<Record<string, ApiErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_BODY',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'BAD_REQUEST',
};

const STATUS_CODES: Readonly<Record<number, ApiErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  414: 'BAD_REQUEST',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

interface StatusError {
  statusCode: number;
  code?: string;
  message: string;
}

const isStatusError = (error: unknown): error is StatusError =>
  error instanceof Error &&
  typeof (error as unknown as Partial<StatusError>).statusCode === 'number' &&
  (error as unknown as StatusError).statusCode >= 400 &&
  (error as unknown as StatusError).statusCode < 500;

/**
 * Fastify's router answers some requests before any route (and so before Nest) runs: a URL that
 * does not decode (`%zz`) and a path parameter over `maxParamLength`. Given as the adapter's
 * `frameworkErrors`, this answers them in the api's error format, with Fastify's status, rather
 * than Fastify's own `{ error, code, message, statusCode }` body.
 */
export function replyToFrameworkError(
  error: Error & { statusCode?: number; code?: string },
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const status =
    error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
      ? error.statusCode
      : 400;
  const code = (error.code ? FASTIFY_CODES[error.code] : undefined) ?? STATUS_CODES[status] ?? 'BAD_REQUEST';
  const apiError = new ApiError(status, code, error.message);
  void reply.status(status).send(apiError.toBody());
}

/**
 * Every error leaves as `{ error: { code, message, details? } }`. Client mistakes keep their 4xx
 * (including Fastify's body-parser errors, which reach Nest's error handler); anything unexpected
 * is logged with its stack and answered 500 without internals.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const error = this.toApiError(exception, request);
    if (error.status >= 500) {
      this.logger.error({ err: exception, method: request.method, url: request.url }, 'request failed');
    }
    void reply.status(error.status).headers(error.headers).send(error.toBody());
  }

  private toApiError(exception: unknown, request: FastifyRequest): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof AuthError) {
      return new ApiError(
        401,
        'UNAUTHENTICATED',
        exception.message,
        { reason: exception.code },
        {
          'www-authenticate': exception.challenge,
        },
      );
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const message =
        status === 404 ? `no route ${request.method} ${request.url.split('?')[0]}` : exception.message;
      return new ApiError(
        status,
        STATUS_CODES[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL'),
        message,
      );
    }
    if (isStatusError(exception)) {
      const code =
        (exception.code ? FASTIFY_CODES[exception.code] : undefined) ??
        STATUS_CODES[exception.statusCode] ??
        'BAD_REQUEST';
      return new ApiError(exception.statusCode, code, exception.message);
    }
    return new ApiError(500, 'INTERNAL', 'internal error');
  }
}
