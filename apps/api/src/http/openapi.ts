import { type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * The OpenAPI 3.0 schema of a zod schema: the same object validates the request and documents it,
 * so the two cannot drift apart.
 */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
  });
  return json as SchemaObject;
}

/** The error body every error status answers with. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().meta({ description: 'Stable machine-readable code, e.g. TEXT_TOO_LONG.' }),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

/** `@ApiResponse` options for an error status. */
export const errorResponse = (status: number, description: string) => ({
  status,
  description,
  schema: openApiSchema(errorBodySchema),
});
