import { EXPORT_ENGINES, EXPORT_QUALITIES, JOB_STATUSES } from '@fleet/contracts';
import { z } from 'zod';

/**
 * `POST /v1/exports`: the seed's job data, snake_case. Defaults: `include_assets` false,
 * `quality` medium, `godot_version` 4; `seed` defaults to the export's id (so two exports are
 * byte-identical only when they name the same seed).
 */
export const createExportSchema = z
  .object({
    project_id: z.uuid().meta({ description: 'A COMPLETED map_generation job of the caller.' }),
    engines: z
      .array(z.enum(EXPORT_ENGINES))
      .min(1, 'name at least one engine')
      .max(EXPORT_ENGINES.length)
      .refine((engines) => new Set(engines).size === engines.length, 'engines must not repeat'),
    include_assets: z.boolean().default(false),
    quality: z.enum(EXPORT_QUALITIES).default('medium'),
    seed: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, 'expected 1–128 printable ASCII characters without spaces')
      .optional(),
    godot_version: z.union([z.literal(3), z.literal(4)]).default(4),
    manifest: z.record(z.string(), z.unknown()).optional().meta({
      description: 'Your own fields, copied into every signed manifest (EXPORT_MANIFEST_MAX_BYTES).',
    }),
    callback_url: z
      .string()
      .max(2048)
      .optional()
      .meta({ description: 'http(s); refused when it resolves to a loopback, private or metadata address.' }),
  })
  .strict();
export type CreateExportBody = z.output<typeof createExportSchema>;

export const acceptedExportSchema = z.object({
  exportId: z.uuid(),
  status: z.enum(JOB_STATUSES),
  location: z.string(),
});
export type AcceptedExport = z.infer<typeof acceptedExportSchema>;

const bundleSchema = z.object({
  engine: z.enum(EXPORT_ENGINES),
  size: z.number().int(),
  sha256: z.string(),
  url: z.url().meta({ description: 'Presigned GET (JOB_ARTIFACT_URL_TTL_SECONDS).' }),
  expiresAt: z.iso.datetime(),
});

export const exportViewSchema = z.object({
  id: z.uuid(),
  status: z.enum(JOB_STATUSES),
  progress: z.number().int(),
  stage: z.string().nullable(),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  error: z.string().nullable(),
  request: z.object({
    project_id: z.uuid(),
    engines: z.array(z.enum(EXPORT_ENGINES)),
    include_assets: z.boolean(),
    quality: z.enum(EXPORT_QUALITIES),
    seed: z.string(),
    godot_version: z.union([z.literal(3), z.literal(4)]),
    callback_url: z.string().nullable(),
  }),
  bundles: z.array(bundleSchema).optional(),
  lastEventSeq: z.number().int(),
  createdAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
});
export type ExportView = z.infer<typeof exportViewSchema>;

export const publicKeysSchema = z.object({
  keys: z.array(
    z.object({
      keyId: z.string(),
      algorithm: z.enum(['Ed25519', 'ES256']),
      jwk: z.record(z.string(), z.unknown()),
      spkiPem: z.string(),
      firstSeen: z.iso.datetime(),
      lastSeen: z.iso.datetime(),
    }),
  ),
});
