import { Module } from '@nestjs/common';
import { UploadStore } from '@fleet/uploads';
import { AuthGuard } from '../auth/auth.guard';
import { CompleteUploadController } from '../complete-upload/complete-upload.controller';
import { CompleteUpload } from '../complete-upload/complete-upload.use-case';
import { CreateUploadController } from '../create-upload/create-upload.controller';
import { CreateUpload } from '../create-upload/create-upload.use-case';
import { DownloadUploadController } from '../download-upload/download-upload.controller';
import { GetUploadController } from '../get-upload/get-upload.controller';
import { PutChunkController } from '../put-chunk/put-chunk.controller';
import { PutChunk } from '../put-chunk/put-chunk.use-case';

/** Chunked uploads (seed 004): start, chunks streamed to MinIO, complete (merge request through the outbox), status, download. */
@Module({
  controllers: [
    CreateUploadController,
    PutChunkController,
    CompleteUploadController,
    GetUploadController,
    DownloadUploadController,
  ],
  providers: [
    AuthGuard,
    { provide: UploadStore, useFactory: () => new UploadStore() },
    CreateUpload,
    PutChunk,
    CompleteUpload,
  ],
})
export class UploadsModule {}
