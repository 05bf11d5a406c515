import { Body, Controller, Headers, HttpCode, Inject, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { ApiError } from '../http/api.errors';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import { acceptedJobSchema, type AcceptedJob } from '../jobs/jobs.schemas';
import { baseMediaType, filenameSchema } from '../uploads/uploads.schemas';
import { z } from 'zod';
import { CreateMapJob } from './create-map-job.use-case';
import { DOCUMENT_TYPES } from './document-body';

const querySchema = z.object({ filename: filenameSchema.optional() }).strict();

const DEFAULT_FILENAMES: Readonly<Record<string, string>> = {
  'text/plain': 'document.txt',
  'text/markdown': 'document.md',
};

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('v1/maps')
@UseGuards(AuthGuard)
export class CreateMapJobController {
  constructor(@Inject(CreateMapJob) private readonly createMapJob: CreateMapJob) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Generate a map from a document',
    description:
      'The raw body is the document (text/plain or text/markdown, UTF-8, at most MAP_DOCUMENT_MAX_BYTES). ' +
      'Answers with a `map_generation` job: the generation worker structures the document with the LLM, lays ' +
      'it out and renders it; once COMPLETED, `GET /v1/jobs/{jobId}` gives download URLs of the JSON model and ' +
      'the SVG. Progress: `GET /v1/jobs/{jobId}/events` (WebSocket or SSE).',
  })
  @ApiConsumes(...DOCUMENT_TYPES)
  @ApiBody({ schema: { type: 'string' }, description: 'The document.' })
  @ApiQuery({
    name: 'filename',
    required: false,
    description: 'Name of the document (metadata; default document.txt / document.md).',
  })
  @ApiResponse({
    status: 202,
    description: 'Job created.',
    schema: openApiSchema(acceptedJobSchema, 'output'),
  })
  @ApiResponse(
    errorResponse(
      400,
      'DOCUMENT_EMPTY (no bytes, or only whitespace), DOCUMENT_NOT_TEXT (NUL byte, invalid UTF-8, or a binary format such as PDF or PNG: the reason says which), VALIDATION_FAILED (filename).',
    ),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(413, 'DOCUMENT_TOO_LARGE: over MAP_DOCUMENT_MAX_BYTES.'))
  @ApiResponse(
    errorResponse(
      415,
      'UNSUPPORTED_MEDIA_TYPE: not text/plain or text/markdown, or a charset other than UTF-8.',
    ),
  )
  async create(
    @CurrentUser() user: Principal,
    @Headers('content-type') contentType: string | undefined,
    @Query() query: unknown,
    @Body() body: unknown,
  ): Promise<AcceptedJob> {
    const type = contentType === undefined ? undefined : baseMediaType(contentType);
    if (type === undefined || !(DOCUMENT_TYPES as readonly string[]).includes(type)) {
      throw new ApiError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `a map document must be ${DOCUMENT_TYPES.join(' or ')}, got ${contentType ?? 'no Content-Type'}`,
        { allowed: DOCUMENT_TYPES },
      );
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType!)?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
      throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `documents are UTF-8; got charset=${charset}`);
    }
    const { filename } = parseInput(querySchema, query ?? {}, 'query');
    return this.createMapJob.run({
      ownerId: user.userId,
      contentType: type,
      body: Buffer.isBuffer(body) ? body : Buffer.alloc(0),
      filename: filename ?? DEFAULT_FILENAMES[type]!,
    });
  }
}
