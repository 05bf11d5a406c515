/** Closed set of reasons an {@link ObservabilityError} is thrown; branch on these, never on message text. */
export type ObservabilityErrorCode =
  'HEALTH_PORT_IN_USE' | 'HEALTH_LISTEN_FAILED' | 'TRACING_ALREADY_STARTED' | 'TRACING_INVALID_ENDPOINT';

/** Base error of `@fleet/observability`. */
export class ObservabilityError extends Error {
  override readonly name = 'ObservabilityError';

  constructor(
    readonly code: ObservabilityErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
