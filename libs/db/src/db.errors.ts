/**
 * Closed set of reasons a {@link DbError} is thrown; branch on these, never on message text.
 *
 * - `DB_INVALID_OPTIONS`: a programmer or deployment error in the options (bad URL, bad schema name).
 * - `DB_CONNECTION_FAILED`: the data source could not be opened (unreachable, refused, auth).
 * - `DB_UNAVAILABLE`: a ping of an open data source failed.
 * - `DB_MIGRATION_FAILED`: a migration failed; it was rolled back, earlier ones stay applied.
 */
export type DbErrorCode =
  'DB_INVALID_OPTIONS' | 'DB_CONNECTION_FAILED' | 'DB_UNAVAILABLE' | 'DB_MIGRATION_FAILED';

/** Base error of `@fleet/db`. */
export class DbError extends Error {
  override readonly name = 'DbError';

  constructor(
    readonly code: DbErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
