import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { strictJsonSchema } from '../json-schema';
import { sampleFromJsonSchema } from './schema-sample';

const StoryEnhancement = z.object({
  hypeScore: z.number().min(0).max(10),
  ethicsScore: z.number().min(0).max(10),
  realityCheck: z.string().min(20).max(400),
  eli5Summary: z.string().min(1).max(300),
});

const MapStructure = z.object({
  title: z.string().max(12),
  regions: z
    .array(
      z.object({
        name: z.string().min(1),
        biome: z.enum(['forest', 'desert', 'tundra', 'coast']),
        places: z
          .array(
            z.object({
              name: z.string(),
              kind: z.enum(['town', 'ruin']),
              population: z.int().min(0).max(5000),
            }),
          )
          .min(1),
      }),
    )
    .min(2)
    .max(5),
  routes: z.array(
    z.object({ from: z.string(), to: z.string(), lengthKm: z.number().positive().max(40).multipleOf(0.5) }),
  ),
  seed: z.int(),
  legendary: z.boolean(),
  capital: z.string().nullable(),
  kind: z.literal('overworld'),
  tags: z
    .array(z.enum(['a', 'b', 'c']))
    .min(3)
    .max(3),
  weird: z.number().gt(1).lt(2),
  when: z.iso.datetime(),
  id: z.uuid(),
  contact: z.email(),
  day: z.iso.date(),
  link: z.url(),
  choice: z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]),
});

describe('sampleFromJsonSchema', () => {
  for (const [name, schema] of [
    ['story enhancement', StoryEnhancement],
    ['map structure', MapStructure],
  ] as const) {
    it(`builds a value the zod schema accepts (${name}), for many seeds`, () => {
      const json = strictJsonSchema(schema);
      for (let seed = 0; seed < 200; seed++) {
        const value = sampleFromJsonSchema(json, seed * 7919);
        const result = (schema as z.ZodType).safeParse(value);
        assert.ok(result.success, `seed ${seed}: ${result.success ? '' : z.prettifyError(result.error)}`);
      }
    });
  }

  it('is deterministic for a seed and varies across seeds', () => {
    const json = strictJsonSchema(StoryEnhancement);
    assert.deepEqual(sampleFromJsonSchema(json, 42), sampleFromJsonSchema(json, 42));
    const scores = new Set(
      Array.from(
        { length: 20 },
        (_, seed) => (sampleFromJsonSchema(json, seed) as { hypeScore: number }).hypeScore,
      ),
    );
    assert.ok(scores.size > 5, `expected varied scores, got ${[...scores].join(', ')}`);
  });

  it('follows local $refs (recursive schemas stop at a bounded depth)', () => {
    type Tree = { name: string; children: Tree[] };
    const TreeSchema: z.ZodType<Tree> = z.object({
      name: z.string(),
      children: z.array(z.lazy(() => TreeSchema)),
    });
    const json = z.toJSONSchema(z.object({ root: TreeSchema }));
    const value = sampleFromJsonSchema(json, 1);
    assert.ok(z.object({ root: TreeSchema }).safeParse(value).success);
  });

  it('gives strings for an empty schema and null for type null', () => {
    assert.equal(typeof sampleFromJsonSchema({}, 1), 'string');
    assert.equal(sampleFromJsonSchema({ type: 'null' }, 1), null);
  });
});
