import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { sqlOf, type DataSource } from '@fleet/db';
import { UploadStore } from '@fleet/uploads';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { errorResponse, openApiSchema } from '../http/openapi';
import { ownUpload, parseUploadId } from '../uploads/uploads.repository';
import { toUploadView, uploadViewSchema, type UploadView } from '../uploads/uploads.schemas';

@ApiTags('uploads')
@ApiBearerAuth()
@Controller('v1/uploads')
@UseGuards(AuthGuard)
export class GetUploadController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(UploadStore) private readonly uploads: UploadStore,
  ) {}

  @Get(':id')
  @ApiOperation({
    summary: 'An upload: status, chunk plan, chunks received and missing, checksums, failure reason',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'Upload id.' })
  @ApiResponse({ status: 200, description: 'The upload.', schema: openApiSchema(uploadViewSchema, 'output') })
  @ApiResponse(errorResponse(400, 'Malformed id (INVALID_ID).'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(404, "No such upload (or another user's)."))
  async get(@CurrentUser() user: Principal, @Param('id') id: string): Promise<UploadView> {
    const sql = sqlOf(this.dataSource.manager);
    const upload = await ownUpload(this.uploads, sql, parseUploadId(id), user.userId);
    const chunks = upload.status === 'COMPLETED' ? [] : await this.uploads.chunks(sql, upload.id);
    return toUploadView(
      upload,
      chunks.map((chunk) => chunk.index),
    );
  }
}
