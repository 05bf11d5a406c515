import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { sqlOf, type DataSource } from '@fleet/db';
import { type ObjectStore } from '@fleet/object-store';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { finalKey, UploadStore } from '@fleet/uploads';
import { DATA_SOURCE, OBJECT_STORE } from '../app.tokens';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { type Config } from '../config';
import { ApiError } from '../http/api.errors';
import { errorResponse, openApiSchema } from '../http/openapi';
import { ownUpload, parseUploadId } from '../uploads/uploads.repository';
import { downloadSchema, type DownloadView } from '../uploads/uploads.schemas';

@ApiTags('uploads')
@ApiBearerAuth()
@Controller('v1/uploads')
@UseGuards(AuthGuard)
export class DownloadUploadController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(UploadStore) private readonly uploads: UploadStore,
    @Inject(OBJECT_STORE) private readonly objects: ObjectStore,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {}

  @Get(':id/download')
  @ApiOperation({
    summary: 'A short-lived download URL of a COMPLETED upload',
    description:
      'A presigned GET of the object store, valid for UPLOAD_DOWNLOAD_URL_TTL_SECONDS; the file comes with ' +
      '`Content-Disposition: attachment` and its filename, and the declared content type. The bytes never pass ' +
      'through the api.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'Upload id.' })
  @ApiResponse({ status: 200, description: 'The URL.', schema: openApiSchema(downloadSchema, 'output') })
  @ApiResponse(errorResponse(400, 'Malformed id (INVALID_ID).'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(404, "No such upload (or another user's)."))
  @ApiResponse(errorResponse(409, 'UPLOAD_NOT_COMPLETED: the file is not ready (its status in details).'))
  async download(@CurrentUser() user: Principal, @Param('id') id: string): Promise<DownloadView> {
    const upload = await ownUpload(
      this.uploads,
      sqlOf(this.dataSource.manager),
      parseUploadId(id),
      user.userId,
    );
    if (upload.status !== 'COMPLETED') {
      throw new ApiError(
        409,
        'UPLOAD_NOT_COMPLETED',
        upload.status === 'FAILED'
          ? `the upload FAILED (${upload.failureReason ?? 'no reason recorded'}); there is nothing to download`
          : `the upload is ${upload.status}; the file can be downloaded once it is COMPLETED`,
        { status: upload.status },
      );
    }
    const ttl = this.config.UPLOAD_DOWNLOAD_URL_TTL_SECONDS;
    // Whole seconds before signing (the signature's date has no fraction): the URL stays valid at
    // least until the expiry announced, never less.
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + ttl * 1000);
    const url = await this.objects.presignedDownload(upload.finalKey ?? finalKey(upload.id), ttl, {
      filename: upload.filename,
      contentType: upload.contentType,
    });
    return { url, expiresAt: expiresAt.toISOString(), expiresInSeconds: ttl };
  }
}
