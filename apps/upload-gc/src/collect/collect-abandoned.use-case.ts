import { SpanStatusCode, trace } from '@opentelemetry/api';
import { inTransaction, type DataSource } from '@fleet/db';
import { type ObjectStore } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import { type AbandonedUpload, type UploadStore } from '@fleet/uploads';
import { chunkObjectsOf, objectStoreCall } from './chunk-objects';
import { isProgrammerError, messageOf, UploadGcError } from './gc.errors';
import { type GcMetrics } from './gc.metrics';

export interface CollectOptions {
  dataSource: DataSource;
  objects: ObjectStore;
  uploads: UploadStore;
  logger: Logger;
  metrics: GcMetrics;
  /** An upload is abandoned once its creation and its last stored chunk are both this old. */
  retentionHours: number;
  /** Uploads per transaction. */
  batchSize: number;
  /** Asked before each batch: a stop request lets the batch in flight finish, then the run ends. */
  stopRequested: () => boolean;
}

export interface CollectResult {
  cleaned: number;
  bytes: number;
  batches: number;
  /** A stop request ended the run before the backlog was done. */
  interrupted: boolean;
}

const tracer = trace.getTracer('upload-gc');

/** What an abandoned upload's `failure_reason` says; the prefix is the code clients can branch on. */
export function abandonedReason(retentionHours: number): string {
  return `ABANDONED: no chunk stored for ${retentionHours} h; its chunks were deleted`;
}

/**
 * The run: batch after batch, each one transaction: claim up to `batchSize` abandoned uploads
 * (`failAbandoned`: rows locked with SKIP LOCKED, so overlapping runs split the work; chunk rows
 * deleted; status FAILED), delete their chunk objects — the recorded ones and any leftover attempt
 * under the upload's prefix — and only then commit. A failure anywhere rolls the batch back: the
 * uploads stay UPLOADING with their rows, and the next run takes them again. Ends after a short
 * batch (the backlog is done), on a stop request, or at the first failure (thrown, as an
 * {@link UploadGcError} unless it is a bug of ours).
 */
export async function collectAbandonedUploads(options: CollectOptions): Promise<CollectResult> {
  const { logger, metrics, batchSize, stopRequested } = options;
  const result: CollectResult = { cleaned: 0, bytes: 0, batches: 0, interrupted: false };
  for (;;) {
    if (stopRequested()) {
      logger.warn({ cleaned: result.cleaned, batches: result.batches }, 'stop requested; run ends early');
      return { ...result, interrupted: true };
    }
    const batch = await cleanBatch(options, result.batches + 1);
    // Counted once committed: a rolled-back batch cleaned nothing, whatever it deleted.
    result.batches++;
    result.cleaned += batch.uploads.length;
    result.bytes += batch.bytes;
    metrics.cleaned.inc(batch.uploads.length);
    metrics.bytesReclaimed.inc(batch.bytes);
    if (batch.uploads.length > 0) {
      logger.info(
        { batch: result.batches, uploads: batch.uploads.map((u) => u.id), bytes: batch.bytes },
        'abandoned uploads cleaned',
      );
    }
    if (batch.uploads.length < batchSize) return result;
  }
}

async function cleanBatch(
  options: CollectOptions,
  number: number,
): Promise<{ uploads: AbandonedUpload[]; bytes: number }> {
  const { dataSource, objects, uploads, retentionHours, batchSize } = options;
  return tracer.startActiveSpan(
    'upload-gc batch',
    { attributes: { 'upload_gc.batch': number } },
    async (span) => {
      try {
        const batch = await inTransaction(dataSource, async (sql) => {
          const abandoned = await uploads.failAbandoned(
            sql,
            retentionHours * 3_600_000,
            batchSize,
            abandonedReason(retentionHours),
          );
          const keys: string[] = [];
          let bytes = 0;
          for (const upload of abandoned) {
            const found = await chunkObjectsOf(objects, upload);
            keys.push(...found.keys);
            bytes += found.bytes;
          }
          // Before the commit: if the store refuses, the rows roll back and the next run retries.
          if (keys.length > 0) await objectStoreCall('deleting chunk objects', () => objects.remove(keys));
          return { uploads: abandoned, bytes };
        }).catch((error: unknown) => {
          if (error instanceof UploadGcError || isProgrammerError(error)) throw error;
          throw new UploadGcError('DATABASE_FAILED', databaseMessage(error), { cause: error });
        });
        span.setAttributes({ 'upload_gc.uploads': batch.uploads.length, 'upload_gc.bytes': batch.bytes });
        return batch;
      } catch (error) {
        span.recordException(error instanceof Error ? error : new Error(String(error)));
        span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

function databaseMessage(error: unknown): string {
  const message = 'database step failed; batch rolled back';
  // 42P01 undefined_table: the tables come with the api's migrations (UPLOAD_MIGRATIONS).
  return (error as { code?: string }).code === '42P01'
    ? `${message} (are the api's migrations applied to this DATABASE_SCHEMA?)`
    : message;
}
