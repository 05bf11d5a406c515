import { Controller, HttpCode, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { errorResponse, openApiSchema } from '../http/openapi';
import { parseUploadId } from '../uploads/uploads.repository';
import { uploadStatusSchema, type UploadStatusView } from '../uploads/uploads.schemas';
import { CompleteUpload } from './complete-upload.use-case';

@ApiTags('uploads')
@ApiBearerAuth()
@Controller('v1/uploads')
@UseGuards(AuthGuard)
export class CompleteUploadController {
  constructor(@Inject(CompleteUpload) private readonly completeUpload: CompleteUpload) {}

  @Post(':id/complete')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Complete an upload: every chunk is stored, merge them',
    description:
      'Moves the upload to MERGING and asks file-merge (through the transactional outbox) to compose the ' +
      'chunks into the file; watch `GET /v1/uploads/{id}` for COMPLETED. Completing again answers 200 with ' +
      'the current status and requests nothing more.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'Upload id.' })
  @ApiResponse({
    status: 202,
    description: 'MERGING: the merge is requested.',
    schema: openApiSchema(uploadStatusSchema, 'output'),
  })
  @ApiResponse({
    status: 200,
    description: 'Already MERGING or COMPLETED; nothing changed.',
    schema: openApiSchema(uploadStatusSchema, 'output'),
  })
  @ApiResponse(errorResponse(400, 'Malformed id (INVALID_ID).'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(404, "No such upload (or another user's)."))
  @ApiResponse(
    errorResponse(
      409,
      'UPLOAD_INCOMPLETE (chunks missing: `error.details.missing`, also `missing` beside `error`) or UPLOAD_FAILED (with its reason).',
    ),
  )
  async complete(
    @CurrentUser() user: Principal,
    @Param('id') id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UploadStatusView> {
    const uploadId = parseUploadId(id);
    const { status, started } = await this.completeUpload.run(uploadId, user.userId);
    if (!started) void reply.status(200);
    return { id: uploadId, status };
  }
}
