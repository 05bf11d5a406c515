/**
 * A bad argument to one of the pools' SQL functions: they raise SQLSTATE 22023
 * (`invalid_parameter_value`) with the argument's name in the error's COLUMN field and a message
 * `<field>: <reason>`, and write nothing. Callers answer it as the client's mistake.
 */
export class PoolArgumentError extends Error {
  constructor(
    /** The argument, as the SQL functions name it: `params.count`, `job_type`, `min_level`, `campaign_seed`. */
    readonly field: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${reason}`, options);
    this.name = 'PoolArgumentError';
  }
}

const INVALID_PARAMETER_VALUE = '22023';

/**
 * The {@link PoolArgumentError} of a failed statement (pg's error, or TypeORM's wrapping of it), or
 * undefined for any other failure.
 */
export function poolArgumentErrorOf(error: unknown): PoolArgumentError | undefined {
  const pg = pgErrorOf(error);
  if (!pg || pg.code !== INVALID_PARAMETER_VALUE || typeof pg.column !== 'string') return undefined;
  const prefix = `${pg.column}: `;
  const reason = pg.message.startsWith(prefix) ? pg.message.slice(prefix.length) : pg.message;
  return new PoolArgumentError(pg.column, reason, { cause: error });
}

interface PgError {
  code?: unknown;
  column?: unknown;
  message: string;
}

function pgErrorOf(error: unknown): PgError | undefined {
  if (!(error instanceof Error)) return undefined;
  const driver = (error as { driverError?: unknown }).driverError;
  return (driver instanceof Error ? driver : error) as PgError;
}
