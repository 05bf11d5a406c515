import { Inject, Injectable } from '@nestjs/common';
import { inNamespace, uploadMergeRequested, type UploadStatus } from '@fleet/contracts';
import { sqlOf, type DataSource } from '@fleet/db';
import { enqueue } from '@fleet/outbox';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { UploadStore, type StartMergeOutcome } from '@fleet/uploads';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { type Config } from '../config';
import { ApiError, notFound } from '../http/api.errors';
import { type ApiMetrics } from '../http/api.metrics';
import { ownUpload } from '../uploads/uploads.repository';

export interface CompleteUploadResult {
  status: UploadStatus;
  /** true when this call moved the upload to MERGING (202); false when it already was there or past (200). */
  started: boolean;
}

/**
 * Completes an upload: in ONE transaction, `startMerge` (UPLOADING with every chunk stored →
 * MERGING; the upload's row locked, so chunk writes and GC cannot interleave) and, when it moved,
 * the `upload.merge.requested.1` outbox event for file-merge (key = upload id). Completing again
 * changes nothing and emits nothing: only the one transition writes an event.
 */
@Injectable()
export class CompleteUpload {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(UploadStore) private readonly uploads: UploadStore,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {}

  async run(uploadId: string, ownerId: string): Promise<CompleteUploadResult> {
    await ownUpload(this.uploads, sqlOf(this.dataSource.manager), uploadId, ownerId);
    const outcome: StartMergeOutcome = await this.dataSource.transaction(async (tx) => {
      const started = await this.uploads.startMerge(sqlOf(tx), uploadId);
      if (started.outcome === 'merging') {
        await enqueue(tx, inNamespace(uploadMergeRequested, this.config.KAFKA_TOPIC_NAMESPACE), {
          aggregateType: 'upload',
          aggregateKey: uploadId,
          eventType: 'upload.merge.requested',
          payload: { uploadId, requestedAt: new Date().toISOString() },
        });
      }
      return started;
    });

    switch (outcome.outcome) {
      case 'merging':
        this.metrics.uploadMergeRequests.inc();
        return { status: 'MERGING', started: true };
      case 'already':
        return { status: outcome.status, started: false };
      case 'missing_chunks': {
        const { missing } = outcome;
        const listed =
          missing.length > 20
            ? `${missing.slice(0, 20).join(', ')} … (${missing.length} in all)`
            : missing.join(', ');
        throw new ApiError(
          409,
          'UPLOAD_INCOMPLETE',
          `chunks missing: ${listed}; send them, then complete again`,
          { missing },
          {},
          { missing },
        );
      }
      case 'failed':
        throw new ApiError(
          409,
          'UPLOAD_FAILED',
          `the upload FAILED: ${outcome.reason ?? 'no reason recorded'}; start a new one`,
          { status: 'FAILED', failureReason: outcome.reason },
        );
      case 'unknown_upload':
        throw notFound(`upload ${uploadId} not found`);
    }
  }
}
