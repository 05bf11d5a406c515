import { type z } from 'zod';
import { ConfigError, type ConfigIssue } from './config.errors';

/** The shape of `process.env`; apps pass it in, the lib never reads it itself. */
export type Env = Readonly<Record<string, string | undefined>>;

// Values of variables whose names look like this are never echoed back in an error message,
// because that message goes to stderr and from there into log storage.
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIAL/i;
const MAX_ECHOED_CHARS = 80;

/**
 * Validates `env` against `schema` and returns the typed config.
 *
 * Empty and whitespace-only values count as unset: compose files and manifests often render an
 * unset optional value as `FOO=`, and an empty string is never a valid port, URL or list.
 *
 * @throws {@link ConfigError} with code `CONFIG_INVALID` naming every rejected variable at once,
 *   so an operator fixes the deployment in one round instead of one variable per restart.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  const present = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => Boolean(entry[1]?.trim())),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;

  const reasons = new Map<string, Set<string>>();
  for (const issue of result.error.issues) {
    const variable = issue.path.length > 0 ? String(issue.path[0]) : '(environment)';
    const raw = present[variable];
    const reason =
      issue.path.length === 0
        ? issue.message
        : raw === undefined
          ? 'required'
          : `${issue.message}, got ${describeValue(variable, raw)}`;
    reasons.set(variable, (reasons.get(variable) ?? new Set()).add(reason));
  }
  const issues: ConfigIssue[] = [...reasons].map(([variable, set]) => ({
    variable,
    reason: [...set].join('; '),
  }));
  const message = ['Invalid configuration:', ...issues.map((i) => `  - ${i.variable}: ${i.reason}`)].join(
    '\n',
  );
  throw new ConfigError('CONFIG_INVALID', message, issues, { cause: result.error });
}

function describeValue(variable: string, raw: string): string {
  if (SECRET_NAME.test(variable)) return '(redacted)';
  // A malformed connection string may still carry a password: mask the userinfo part.
  const masked = raw.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/, '$1***@');
  const shown = masked.length > MAX_ECHOED_CHARS ? `${masked.slice(0, MAX_ECHOED_CHARS)}…` : masked;
  return JSON.stringify(shown);
}

/** Side effects of {@link loadConfigOrExit}, injectable so tests can observe them. */
export interface ExitIo {
  /**
   * Ends the process.
   * @defaultValue `process.exit`
   */
  exit?: (code: number) => never;
  /**
   * Writes the error report.
   * @defaultValue writes to `process.stderr`
   */
  write?: (text: string) => void;
}

/**
 * Boot-time wrapper around {@link parseConfig}: on invalid config it prints the report to stderr
 * and exits with code 1, because a service with bad config must not start half-configured and
 * a stack trace would bury the list of variables to fix.
 */
export function loadConfigOrExit<S extends z.ZodType>(schema: S, env: Env, io: ExitIo = {}): z.output<S> {
  const { exit = process.exit, write = (text: string) => void process.stderr.write(text) } = io;
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    write(`${error.message}\n`);
    return exit(1);
  }
}
