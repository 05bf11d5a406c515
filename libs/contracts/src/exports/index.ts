import { z } from 'zod';
import { defineTopic } from '../topic';
import { jobRequestSchema } from '../jobs';

/**
 * Export bundles (seed 002): an `export_bundle` job of the job platform, built by the `exporter`,
 * and the callback webhook it announces its outcome with.
 */

/** The engines a bundle is built for, in the seed's spelling. */
export const EXPORT_ENGINES = ['ue5', 'unity', 'godot'] as const;
export type ExportEngine = (typeof EXPORT_ENGINES)[number];

/** Texture quality: the rasterized map's longest side, in pixels (see apps/exporter/README.md). */
export const EXPORT_QUALITIES = ['low', 'medium', 'high'] as const;
export type ExportQuality = (typeof EXPORT_QUALITIES)[number];

/** The job kind the api creates and the exporter runs. */
export const EXPORT_JOB_KIND = 'export_bundle';

/**
 * An export job's input, as the api stores it in `jobs.input` (camelCase; the HTTP body is the
 * seed's snake_case). `seed` is always set: the request's, or the export id when it gave none.
 */
export const exportJobInputSchema = z
  .object({
    projectId: z.string().uuid(),
    engines: z.array(z.enum(EXPORT_ENGINES)).min(1).max(EXPORT_ENGINES.length),
    includeAssets: z.boolean(),
    quality: z.enum(EXPORT_QUALITIES),
    seed: z.string().min(1).max(128),
    godotVersion: z.union([z.literal(3), z.literal(4)]),
    /** The caller's own manifest object, copied into the signed manifest (size-capped by the api). */
    manifest: z.record(z.string(), z.unknown()).optional(),
    /** Checked by the api's SSRF rule; checked again before every delivery. */
    callbackUrl: z.string().url().optional(),
  })
  .strict();
export type ExportJobInput = z.infer<typeof exportJobInputSchema>;

/** Export jobs for the `exporter`. Key: the job id. */
export const exportJobRequested = defineTopic({
  name: 'export.job.requested.1',
  schema: jobRequestSchema,
  description: 'An export bundle job is waiting for an exporter.',
});

export const EXPORT_CALLBACK_TYPES = ['export.completed', 'export.failed'] as const;
export type ExportCallbackType = (typeof EXPORT_CALLBACK_TYPES)[number];

/** The webhook body a receiver gets (`webhook-id` header = `id`). */
export const exportCallbackEventSchema = z
  .object({
    /** Deterministic per export and outcome: a receiver that dedups on it sees each event once. */
    id: z.string().uuid(),
    type: z.enum(EXPORT_CALLBACK_TYPES),
    createdAt: z.string().datetime({ offset: true }),
    data: z.record(z.string(), z.unknown()),
  })
  .strict();
export type ExportCallbackEvent = z.infer<typeof exportCallbackEventSchema>;

/** A callback to deliver: the event and where to. Key: the export (job) id. */
export const exportCallbackRequestSchema = z
  .object({
    exportId: z.string().uuid(),
    url: z.string().url(),
    event: exportCallbackEventSchema,
  })
  .strict();
export type ExportCallbackRequest = z.infer<typeof exportCallbackRequestSchema>;

/**
 * Callback deliveries, written to the outbox in the transaction that ends the export; the
 * exporter's delivery consumer POSTs them (retry topic with backoff, then `.dlq`).
 */
export const exportCallbackRequested = defineTopic({
  name: 'export.callback.requested.1',
  schema: exportCallbackRequestSchema,
  description: 'An export finished (completed or failed): its callback webhook is to be delivered.',
});
