import { randomUUID } from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { type UploadStatus } from '@fleet/contracts';
import { sqlOf, type DataSource } from '@fleet/db';
import { type ObjectStore, type StreamedObject } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import { SERVICE_LOGGER } from '@fleet/service-kit';
import {
  chunkKey,
  expectedChunkBytes,
  MIN_CHUNK_BYTES,
  UploadStore,
  type RecordChunkOutcome,
  type Upload,
} from '@fleet/uploads';
import { API_METRICS, DATA_SOURCE, OBJECT_STORE } from '../app.tokens';
import { ApiError, badRequest, notFound } from '../http/api.errors';
import { type ApiMetrics, type ChunkOutcome } from '../http/api.metrics';
import { chunkBody } from '../uploads/chunk-body';
import { checkContent, SNIFF_BYTES } from '../uploads/content-check';
import { ownUpload } from '../uploads/uploads.repository';
import { baseMediaType, type ChunkResult } from '../uploads/uploads.schemas';

export interface PutChunkCommand {
  uploadId: string;
  ownerId: string;
  index: number;
  /** The request's Content-Length. */
  contentLength: number;
  /** `X-Chunk-SHA256`, lower-cased, when the client sent one. */
  declaredSha256?: string;
  /** The request, its body unread. */
  raw: IncomingMessage;
}

export interface PutChunkResult {
  /** true: stored now (201); false: the same bytes were already stored (200). */
  created: boolean;
  chunk: ChunkResult;
}

export const notUploading = (status: UploadStatus) =>
  new ApiError(
    409,
    'UPLOAD_NOT_UPLOADING',
    `the upload is ${status}; chunks are taken only while UPLOADING`,
    {
      status,
    },
  );

/**
 * Takes one chunk: check it can be one (owner, status, index, exact length) → stream the body to
 * its own object (`chunkKey(id, n, attempt)`, never buffered, hashed on the way) → check the
 * declared checksum and, for chunk 0, the file's magic bytes → let the database decide in one
 * transaction whether this attempt is the chunk (stored), the same bytes again (duplicate) or other
 * bytes for a taken index (conflict). Every attempt that does not become the chunk deletes its
 * object, so nothing outside the chunk rows is left in the bucket.
 */
@Injectable()
export class PutChunk {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(OBJECT_STORE) private readonly objects: ObjectStore,
    @Inject(UploadStore) private readonly uploads: UploadStore,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async run(command: PutChunkCommand): Promise<PutChunkResult> {
    const { uploadId, index } = command;
    const upload = await ownUpload(this.uploads, sqlOf(this.dataSource.manager), uploadId, command.ownerId);
    if (upload.status !== 'UPLOADING') throw notUploading(upload.status);
    if (index >= upload.chunkCount) {
      throw badRequest(
        'CHUNK_INDEX_INVALID',
        `chunk index ${index} is out of range: this upload has chunks 0 to ${upload.chunkCount - 1}`,
        { index, chunkCount: upload.chunkCount },
      );
    }
    const expected = expectedChunkBytes(upload, index);
    if (command.contentLength !== expected)
      throw sizeMismatch(upload, index, command.contentLength, expected);

    const key = chunkKey(uploadId, index, randomUUID());
    const { stored, head } = await this.stream(command, key, expected);

    if (command.declaredSha256 !== undefined && command.declaredSha256 !== stored.sha256) {
      await this.discard(key, 'checksum_mismatch');
      throw badRequest(
        'CHUNK_CHECKSUM_MISMATCH',
        `X-Chunk-SHA256 is ${command.declaredSha256} but the bytes received hash to ${stored.sha256}; nothing was stored`,
        { declared: command.declaredSha256, received: stored.sha256 },
      );
    }
    if (index === 0) {
      const verdict = await checkContent(upload.contentType, head, expected > SNIFF_BYTES);
      if (!verdict.ok) {
        await this.discard(key, 'content_mismatch');
        throw new ApiError(415, 'CONTENT_MISMATCH', verdict.reason, {
          declared: baseMediaType(upload.contentType),
          detected: verdict.detected ?? null,
        });
      }
    }

    let outcome: RecordChunkOutcome;
    try {
      outcome = await this.dataSource.transaction((tx) =>
        this.uploads.recordChunk(sqlOf(tx), uploadId, {
          index,
          size: stored.size,
          sha256: stored.sha256,
          objectKey: key,
        }),
      );
    } catch (error) {
      this.metrics.uploadChunks.inc({ outcome: 'error' });
      await this.discardUnlessRecorded(uploadId, key);
      throw error;
    }

    const chunk = { index, size: stored.size, sha256: stored.sha256 };
    switch (outcome.outcome) {
      case 'stored':
        this.metrics.uploadChunks.inc({ outcome: 'stored' });
        this.logger.debug({ uploadId, index, key, size: stored.size }, 'chunk stored');
        return { created: true, chunk: { ...chunk, status: 'stored' } };
      case 'duplicate':
        await this.discard(key, 'duplicate');
        return { created: false, chunk: { ...chunk, status: 'duplicate' } };
      case 'conflict':
        await this.discard(key, 'conflict');
        throw new ApiError(
          409,
          'CHUNK_CONFLICT',
          `chunk ${index} is already stored with other content (sha256 ${outcome.chunk.sha256}); a stored chunk is never replaced`,
          { index, storedSha256: outcome.chunk.sha256, receivedSha256: stored.sha256 },
        );
      case 'not_uploading':
        await this.discard(key, 'not_uploading');
        throw notUploading(outcome.status);
      case 'unknown_upload':
        await this.discard(key, 'error');
        throw notFound(`upload ${uploadId} not found`);
    }
  }

  /** Streams the body into `key`; also returns its first bytes when it is chunk 0 (for the content check). */
  private async stream(
    command: PutChunkCommand,
    key: string,
    size: number,
  ): Promise<{ stored: StreamedObject; head: Buffer }> {
    const body = chunkBody(command.raw, command.index === 0 ? SNIFF_BYTES : 0);
    this.metrics.uploadChunkStreams.inc();
    try {
      const stored = await this.objects.putStream(key, body.stream, size);
      return { stored, head: body.head() };
    } catch (error) {
      // A failed PUT stores nothing; the delete makes sure of it.
      if (body.aborted()) {
        await this.discard(key, 'aborted');
        this.logger.info(
          { uploadId: command.uploadId, index: command.index, received: body.received(), expected: size },
          'chunk upload aborted by the client; nothing stored',
        );
        throw new ApiError(
          400,
          'REQUEST_ABORTED',
          `the client closed the request after ${body.received()} of ${size} bytes`,
        );
      }
      body.discardRest();
      await this.discard(key, 'error');
      this.logger.error(
        { err: error, uploadId: command.uploadId, index: command.index, key },
        'chunk not stored: the object store failed',
      );
      throw new ApiError(
        503,
        'STORAGE_UNAVAILABLE',
        'the object store did not take the chunk; nothing was stored, send it again',
        undefined,
        { 'retry-after': '1' },
      );
    } finally {
      this.metrics.uploadChunkStreams.dec();
      this.metrics.uploadBytesReceived.inc(body.received());
    }
  }

  /** Deletes an attempt's object that is not the chunk; a failure leaves an orphan, never an error answer. */
  private async discard(key: string, outcome: ChunkOutcome): Promise<void> {
    this.metrics.uploadChunks.inc({ outcome });
    try {
      await this.objects.remove([key]);
    } catch (error) {
      this.logger.warn({ err: error, key }, 'could not delete a chunk attempt that was not kept');
    }
  }

  /**
   * After a failed transaction the commit may still have happened (its answer lost): the object is
   * deleted only when no chunk row names it.
   */
  private async discardUnlessRecorded(uploadId: string, key: string): Promise<void> {
    try {
      const chunks = await this.uploads.chunks(sqlOf(this.dataSource.manager), uploadId);
      if (!chunks.some((chunk) => chunk.objectKey === key)) await this.objects.remove([key]);
    } catch (error) {
      this.logger.warn(
        { err: error, key },
        'could not tell whether a chunk attempt was recorded; left in place',
      );
    }
  }
}

function sizeMismatch(upload: Upload, index: number, received: number, expected: number): ApiError {
  const last = index === upload.chunkCount - 1;
  const details = { index, expected, received, chunkSize: upload.chunkSize, chunkCount: upload.chunkCount };
  if (!last && received < MIN_CHUNK_BYTES) {
    return badRequest(
      'CHUNK_SIZE_MISMATCH',
      `chunk ${index} is ${received} bytes; every chunk but the last must be exactly the upload's chunkSize ` +
        `(${upload.chunkSize} bytes), and never under 5 MiB (${MIN_CHUNK_BYTES} bytes: the object store composes ` +
        `the file from parts of at least 5 MiB)`,
      details,
    );
  }
  return badRequest(
    'CHUNK_SIZE_MISMATCH',
    last
      ? `chunk ${index} is the last one and must be exactly ${expected} bytes (the rest of the file); got ${received}`
      : `chunk ${index} must be exactly the upload's chunkSize, ${expected} bytes; got ${received}`,
    details,
  );
}
