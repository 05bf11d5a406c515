import { z } from 'zod';
import { defineTopic } from '../topic';

/**
 * Chunked uploads (seed 004): the api takes an upload's chunks into the object store, then asks
 * `file-merge` (through the outbox) to compose them into the final object. Keyed by upload id.
 */

/** An upload's life: chunks arrive while UPLOADING; complete → MERGING → COMPLETED, or FAILED. */
export const UPLOAD_STATUSES = ['UPLOADING', 'MERGING', 'COMPLETED', 'FAILED'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

export const mergeRequestSchema = z
  .object({
    uploadId: z.string().uuid(),
    /** When the client completed the upload (ISO 8601). */
    requestedAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type MergeRequest = z.infer<typeof mergeRequestSchema>;

/** Seed 004's `file_merge_requests`. Key: upload id. */
export const uploadMergeRequested = defineTopic({
  name: 'upload.merge.requested.1',
  schema: mergeRequestSchema,
  description: 'Every chunk of an upload is stored; compose them into the final object.',
});
