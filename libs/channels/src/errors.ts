import { type DeliveryChannel } from '@fleet/contracts';
import { type ChannelErrorCode, type ChannelErrorLike } from './types';

/** Details a connector learned about a failed call. */
export interface ChannelErrorDetails {
  /** HTTP status, when the channel answered. */
  status?: number;
  /** The delay the channel asked for (`Retry-After`), in milliseconds. */
  retryAfterMs?: number;
  /** The underlying error (network failure, abort, JSON parse error), kept for logs. */
  cause?: unknown;
}

/**
 * Base error of `@fleet/channels` for outbound calls: callers branch on `code` (or `retriable`),
 * never on the message. Only `REJECTED` is permanent: the channel refused this exact request, so
 * sending it again cannot help.
 */
export class ChannelError extends Error implements ChannelErrorLike {
  readonly retriable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: ChannelErrorCode,
    readonly channel: DeliveryChannel,
    message: string,
    details: ChannelErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ChannelError';
    this.retriable = code !== 'REJECTED';
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** True for any error shaped like {@link ChannelErrorLike}, also across bundle copies of this lib. */
export function isChannelError(error: unknown): error is ChannelErrorLike {
  if (!(error instanceof Error)) return false;
  const { code, retriable } = error as Partial<ChannelErrorLike>;
  return (
    typeof retriable === 'boolean' &&
    (code === 'REJECTED' || code === 'RATE_LIMITED' || code === 'UNAVAILABLE' || code === 'TIMEOUT')
  );
}

/**
 * Why a webhook payload was refused:
 * - `UNEXPECTED_OBJECT`: `object` is not the one this parser handles (`whatsapp_business_account`,
 *   `instagram`): the webhook is wired to the wrong route or product;
 * - `INVALID_PAYLOAD`: the payload does not have the documented shape (missing or mistyped fields).
 */
export type WebhookPayloadErrorCode = 'UNEXPECTED_OBJECT' | 'INVALID_PAYLOAD';

/**
 * Thrown by the webhook parsers for a payload they cannot read; the api answers 400 with
 * `code` and the message, which names the offending field.
 */
export class WebhookPayloadError extends Error {
  constructor(
    readonly code: WebhookPayloadErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WebhookPayloadError';
  }
}
