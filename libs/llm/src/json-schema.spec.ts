import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { assertSchemaName, strictJsonSchema } from './json-schema';

describe('strictJsonSchema', () => {
  it('converts a zod object to JSON Schema without the draft marker, every property required, no extras', () => {
    const schema = strictJsonSchema(
      z.object({
        hypeScore: z.number().min(0).max(10),
        tags: z.array(z.object({ name: z.string() })).max(3),
        note: z.string().nullable(),
      }),
    );
    assert.equal(schema.$schema, undefined);
    assert.equal(schema.type, 'object');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required, ['hypeScore', 'tags', 'note']);
    assert.deepEqual((schema.properties as Record<string, unknown>).hypeScore, {
      type: 'number',
      minimum: 0,
      maximum: 10,
    });
  });

  it('returns the same object for the same schema (converted once)', () => {
    const zodSchema = z.object({ a: z.string() });
    assert.equal(strictJsonSchema(zodSchema), strictJsonSchema(zodSchema));
  });

  it('refuses an optional property, naming it and the fix', () => {
    assert.throws(
      () => strictJsonSchema(z.object({ inner: z.object({ maybe: z.string().optional() }) })),
      (error: unknown) =>
        error instanceof TypeError &&
        /\$\.inner\.maybe/.test(error.message) &&
        /nullable/.test(error.message),
    );
  });

  it('refuses records and loose objects (extra properties)', () => {
    assert.throws(() => strictJsonSchema(z.object({ map: z.record(z.string(), z.number()) })), TypeError);
    assert.throws(() => strictJsonSchema(z.looseObject({ a: z.string() })), TypeError);
  });

  it('refuses a root that is not an object, and transforms', () => {
    assert.throws(() => strictJsonSchema(z.array(z.string())), /zod object/);
    assert.throws(() => strictJsonSchema(z.object({ n: z.string().transform((s) => s.length) })), TypeError);
  });
});

describe('assertSchemaName', () => {
  it('accepts OpenAI-style names and refuses others', () => {
    assert.doesNotThrow(() => assertSchemaName('story_enhancement-v1'));
    assert.throws(() => assertSchemaName('story enhancement'), TypeError);
    assert.throws(() => assertSchemaName(''), TypeError);
    assert.throws(() => assertSchemaName('x'.repeat(65)), TypeError);
  });
});
