import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import { createdUploadSchema, createUploadSchema, type CreatedUpload } from '../uploads/uploads.schemas';
import { CreateUpload } from './create-upload.use-case';

@ApiTags('uploads')
@ApiBearerAuth()
@Controller('v1/uploads')
@UseGuards(AuthGuard)
export class CreateUploadController {
  constructor(@Inject(CreateUpload) private readonly createUpload: CreateUpload) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Start a chunked upload',
    description:
      'Declares the file (name, size, type, optional sha256). The server picks the chunk size (≥ 5 MiB) and ' +
      'answers how many chunks to send with `PUT /v1/uploads/{id}/chunks/{n}`. The filename is metadata only: ' +
      'it never becomes part of a storage key.',
  })
  @ApiBody({ schema: openApiSchema(createUploadSchema) })
  @ApiResponse({ status: 201, description: 'Created.', schema: openApiSchema(createdUploadSchema, 'output') })
  @ApiResponse(
    errorResponse(
      400,
      'Invalid body: VALIDATION_FAILED (e.g. control characters in the filename, sha256 not 64 hex), INVALID_STRING (NUL), INVALID_JSON, EMPTY_BODY.',
    ),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(413, 'UPLOAD_TOO_LARGE: size over UPLOAD_MAX_BYTES.'))
  @ApiResponse(errorResponse(415, 'CONTENT_TYPE_NOT_ALLOWED: contentType not in UPLOAD_ALLOWED_TYPES.'))
  async create(@CurrentUser() user: Principal, @Body() body: unknown): Promise<CreatedUpload> {
    return this.createUpload.run(user.userId, parseInput(createUploadSchema, body, 'body'));
  }
}
