import { isChannelError, type ChannelErrorCode } from '@fleet/channels';

/** A channel call that did not return a channel message id, as the router reasons about it. */
export interface ChannelFailure {
  /** The connector's code, or `UNKNOWN` for an error that is not a channel error. */
  code: ChannelErrorCode | 'UNKNOWN';
  /** false only for a refusal (`REJECTED`): the same request can never succeed. */
  retriable: boolean;
  /** The channel's `Retry-After`, when it sent one. */
  retryAfterMs: number | undefined;
  status: number | undefined;
  message: string;
}

/**
 * The failure behind an error a connector threw. Anything that is not a channel error (a
 * `fetch failed` the connector did not wrap, say) counts as retriable `UNKNOWN`: the outcome of
 * the call is unknown, and a retry is what keeps the message from being lost.
 */
export function channelFailureOf(error: unknown): ChannelFailure {
  if (isChannelError(error)) {
    return {
      code: error.code,
      retriable: error.retriable,
      retryAfterMs: error.retryAfterMs,
      status: error.status,
      message: error.message,
    };
  }
  return {
    code: 'UNKNOWN',
    retriable: true,
    retryAfterMs: undefined,
    status: undefined,
    message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  };
}

/** `CODE (HTTP 503): message`, the reason text of statuses, DLQ records and `last_error`. */
export function describeFailure(failure: ChannelFailure): string {
  const status = failure.status === undefined ? '' : ` (HTTP ${failure.status})`;
  return `${failure.code}${status}: ${failure.message}`.slice(0, 1_500);
}
