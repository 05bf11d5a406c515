import { z } from 'zod';
import { badRequest } from '../http/api.errors';

/** A user id as it appears in a token's `sub` and in participant lists. */
export const userIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\p{Cc}\s]+$/u, 'expected printable characters without spaces');

export const uuidParam = z.uuid({ error: 'expected a UUID' });

/** A path id, parsed: malformed → 400 `INVALID_ID` (never a database error). */
export function parseId(value: unknown, what: string): string {
  const parsed = uuidParam.safeParse(value);
  if (!parsed.success) throw badRequest('INVALID_ID', `${what} must be a UUID`);
  return parsed.data;
}

/** An object schema from its shape (keeps page schemas short). */
export const envelope = <T extends z.ZodRawShape>(shape: T) => z.object(shape);
