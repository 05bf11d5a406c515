/** Closed set of reasons a {@link ConfigError} is thrown; callers branch on these, never on message text. */
export type ConfigErrorCode = 'CONFIG_INVALID';

/** One rejected variable: its name and why it was rejected. */
export interface ConfigIssue {
  readonly variable: string;
  readonly reason: string;
}

/** Base error of `@fleet/config`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    readonly issues: readonly ConfigIssue[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
