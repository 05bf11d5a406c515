import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { sqlOf, type DataSource } from '@fleet/db';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { planChunks, UploadStore } from '@fleet/uploads';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { type Config } from '../config';
import { checkProjectRef } from '../exports/project-ref';
import { ApiError } from '../http/api.errors';
import { type ApiMetrics } from '../http/api.metrics';
import {
  baseMediaType,
  normalizeContentType,
  toCreatedUpload,
  type CreatedUpload,
  type CreateUploadInput,
} from '../uploads/uploads.schemas';

/**
 * Starts an upload: validate (size within UPLOAD_MAX_BYTES, type in UPLOAD_ALLOWED_TYPES) → the
 * server plans the chunks (`planChunks`: UPLOAD_CHUNK_BYTES, never under 5 MiB, at most 10,000) →
 * one `uploads` row, UPLOADING. The filename is stored as given: it is metadata only, the object
 * keys are the server's own.
 */
@Injectable()
export class CreateUpload {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(UploadStore) private readonly uploads: UploadStore,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {}

  async run(ownerId: string, input: CreateUploadInput): Promise<CreatedUpload> {
    if (input.size > this.config.UPLOAD_MAX_BYTES) {
      throw new ApiError(
        413,
        'UPLOAD_TOO_LARGE',
        `the file is ${input.size} bytes; uploads take at most ${this.config.UPLOAD_MAX_BYTES}`,
        { size: input.size, maxBytes: this.config.UPLOAD_MAX_BYTES },
      );
    }
    const type = baseMediaType(input.contentType);
    if (!this.config.UPLOAD_ALLOWED_TYPES.includes(type)) {
      throw new ApiError(
        415,
        'CONTENT_TYPE_NOT_ALLOWED',
        `content type ${type} is not accepted; allowed: ${this.config.UPLOAD_ALLOWED_TYPES.join(', ')}`,
        { contentType: type, allowed: this.config.UPLOAD_ALLOWED_TYPES },
      );
    }
    const plan = planChunks(input.size, this.config.UPLOAD_CHUNK_BYTES);
    const sql = sqlOf(this.dataSource.manager);
    if (input.projectId !== undefined) await checkProjectRef(sql, input.projectId, 'body.projectId', ownerId);
    const upload = await this.uploads.create(sql, {
      id: randomUUID(),
      ownerId,
      filename: input.filename,
      contentType: normalizeContentType(input.contentType),
      size: input.size,
      expectedSha256: input.sha256 ?? null,
      projectId: input.projectId ?? null,
      ...plan,
    });
    this.metrics.uploadsCreated.inc();
    return toCreatedUpload(upload);
  }
}
