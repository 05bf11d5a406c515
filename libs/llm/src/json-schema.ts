import { z } from 'zod';

/** A JSON Schema document as plain data. */
export type JsonSchema = Record<string, unknown>;

/** What OpenAI accepts as `json_schema.name`. */
const SCHEMA_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const cache = new WeakMap<z.ZodType, JsonSchema>();

/**
 * The JSON Schema sent as `response_format.json_schema.schema` with `strict: true`, derived from
 * the zod schema the answer is validated with (zod 4's `z.toJSONSchema`), so the model is
 * constrained by exactly the rules we check afterwards.
 *
 * Strict mode (OpenAI, OpenRouter) demands every property be required and no extra properties be
 * allowed; LM Studio is lenient, but the fallback endpoint would reject the request, so the rule is
 * checked here for every endpoint. Use `.nullable()` instead of `.optional()`.
 *
 * @throws TypeError for a schema that cannot be used (an optional property, a record, a
 *   transform): a programmer error, found on the first call rather than on the fallback day.
 */
export function strictJsonSchema(schema: z.ZodType): JsonSchema {
  const cached = cache.get(schema);
  if (cached) return cached;
  let converted: JsonSchema;
  try {
    converted = z.toJSONSchema(schema) as JsonSchema;
  } catch (error) {
    throw new TypeError(
      `structured output schema cannot be expressed as JSON Schema: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // Draft marker only: some servers reject unknown top-level keywords in strict mode.
  delete converted.$schema;
  if (converted.type !== 'object') {
    throw new TypeError(
      'structured output schema must be a zod object (strict mode needs an object at the root)',
    );
  }
  checkStrict(converted, '$');
  cache.set(schema, converted);
  return converted;
}

/** @throws TypeError unless `name` is 1–64 letters, digits, `_` or `-` (OpenAI's rule). */
export function assertSchemaName(name: string): void {
  if (!SCHEMA_NAME.test(name)) {
    throw new TypeError(`schemaName must be 1–64 letters, digits, "_" or "-", got ${JSON.stringify(name)}`);
  }
}

function checkStrict(node: unknown, path: string): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => checkStrict(item, `${path}[${i}]`));
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as JsonSchema;
  const properties = schema.properties as Record<string, unknown> | undefined;
  if (schema.type === 'object' || properties !== undefined) {
    if (schema.additionalProperties !== false) {
      throw new TypeError(
        `structured output schema at ${path} allows extra properties; strict mode needs a plain z.object (no records, no looseObject)`,
      );
    }
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const key of Object.keys(properties ?? {})) {
      if (!required.has(key)) {
        throw new TypeError(
          `structured output schema: property ${path}.${key} is optional; strict mode needs every property required — use .nullable() instead of .optional()`,
        );
      }
    }
  }
  for (const [key, child] of Object.entries(schema)) {
    if (key === 'properties' || key === '$defs' || key === 'definitions') {
      for (const [name, sub] of Object.entries(child as Record<string, unknown>)) {
        checkStrict(sub, `${path}.${name}`);
      }
    } else if (
      key === 'items' ||
      key === 'prefixItems' ||
      key === 'anyOf' ||
      key === 'oneOf' ||
      key === 'allOf'
    ) {
      checkStrict(child, `${path}${key === 'items' ? '[]' : `.${key}`}`);
    }
  }
}
