import { type z } from 'zod';
import { badRequest } from './api.errors';

/** Where in the input a bad string sits, e.g. `body.participants[2]`, and why. */
export interface BadString {
  path: string;
  reason: 'NUL character' | 'lone UTF-16 surrogate';
}

/**
 * Finds the first string (object keys included) holding a NUL character or a lone UTF-16
 * surrogate. PostgreSQL rejects NUL in text and a lone surrogate has no UTF-8 encoding, so such
 * input must be refused at the door rather than fail (or be silently mangled) at the database.
 */
export function findBadString(value: unknown, path = 'body', depth = 0): BadString | undefined {
  if (typeof value === 'string') return badStringReason(value, path);
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findBadString(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = badStringReason(key, `${path} (key)`) ?? findBadString(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function badStringReason(value: string, path: string): BadString | undefined {
  if (value.includes('\u0000')) return { path, reason: 'NUL character' };
  if (LONE_SURROGATE.test(value)) return { path, reason: 'lone UTF-16 surrogate' };
  return undefined;
}

/**
 * Validates request input: bad strings first (400 `INVALID_STRING`), then the schema (400
 * `VALIDATION_FAILED` listing every issue with its path).
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'params',
): z.output<S> {
  if (where === 'body' && (value === undefined || value === null)) {
    throw badRequest('EMPTY_BODY', 'a JSON request body is required');
  }
  const bad = findBadString(value, where);
  if (bad) throw badRequest('INVALID_STRING', `${bad.path} contains a ${bad.reason}`, bad);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: [where, ...issue.path.map(String)].join('.'),
      message: issue.message,
    }));
    throw badRequest(
      'VALIDATION_FAILED',
      `invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return parsed.data;
}
