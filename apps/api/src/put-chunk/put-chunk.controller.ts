import { Controller, Headers, HttpCode, Inject, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { ApiError, badRequest } from '../http/api.errors';
import { errorResponse, openApiSchema } from '../http/openapi';
import { CHUNK_CONTENT_TYPE, lengthRequired } from '../uploads/chunk-body';
import { parseUploadId } from '../uploads/uploads.repository';
import { baseMediaType, chunkResultSchema, type ChunkResult } from '../uploads/uploads.schemas';
import { PutChunk } from './put-chunk.use-case';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

@ApiTags('uploads')
@ApiBearerAuth()
@Controller('v1/uploads')
@UseGuards(AuthGuard)
export class PutChunkController {
  constructor(@Inject(PutChunk) private readonly putChunk: PutChunk) {}

  @Put(':id/chunks/:n')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Send one chunk of an upload',
    description:
      'The body (application/octet-stream, with Content-Length) is streamed to the object store, never ' +
      "buffered. Its length must be exactly the upload's chunkSize (the last chunk: the rest of the file). " +
      'Chunks may come in any order and be sent again: the same bytes again answer 200 `duplicate` and change ' +
      'nothing; other bytes for a stored index answer 409. Chunk 0 must start like the declared content type ' +
      '(magic bytes; text types must be UTF-8).',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'Upload id.' })
  @ApiParam({
    name: 'n',
    description: 'Chunk index, 0 to chunkCount − 1.',
    schema: { type: 'integer', minimum: 0 },
  })
  @ApiHeader({ name: 'Content-Length', required: true, description: 'Exact size of the chunk in bytes.' })
  @ApiHeader({
    name: 'X-Chunk-SHA256',
    required: false,
    description: "sha256 of the chunk (hex); when it differs from the bytes' the chunk is refused (400).",
  })
  @ApiConsumes(CHUNK_CONTENT_TYPE)
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 201, description: 'Stored.', schema: openApiSchema(chunkResultSchema, 'output') })
  @ApiResponse({
    status: 200,
    description: 'The same bytes were already stored for this index; nothing changed.',
    schema: openApiSchema(chunkResultSchema, 'output'),
  })
  @ApiResponse(
    errorResponse(
      400,
      'INVALID_ID, CHUNK_INDEX_INVALID (not an integer in [0, chunkCount)), CHUNK_SIZE_MISMATCH (length is not the expected one; non-last chunks are ≥ 5 MiB), CHUNK_CHECKSUM_MISMATCH, VALIDATION_FAILED (X-Chunk-SHA256 malformed).',
    ),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(404, "No such upload (or another user's)."))
  @ApiResponse(
    errorResponse(409, 'CHUNK_CONFLICT (other bytes already stored for this index) or UPLOAD_NOT_UPLOADING.'),
  )
  @ApiResponse(errorResponse(411, 'LENGTH_REQUIRED: no Content-Length.'))
  @ApiResponse(errorResponse(413, 'Content-Length larger than any chunk.'))
  @ApiResponse(
    errorResponse(
      415,
      'UNSUPPORTED_MEDIA_TYPE (body not application/octet-stream) or CONTENT_MISMATCH (chunk 0 is not the declared type).',
    ),
  )
  @ApiResponse(errorResponse(503, 'STORAGE_UNAVAILABLE: the object store failed; send the chunk again.'))
  async put(
    @CurrentUser() user: Principal,
    @Param('id') id: string,
    @Param('n') n: string,
    @Headers('content-type') contentType: string | undefined,
    @Headers('content-length') contentLength: string | undefined,
    @Headers('x-chunk-sha256') declaredSha256: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ChunkResult> {
    const uploadId = parseUploadId(id);
    if (!/^\d{1,9}$/.test(n)) {
      throw badRequest('CHUNK_INDEX_INVALID', `chunk index must be a non-negative integer, got "${n}"`);
    }
    if (contentType === undefined || baseMediaType(contentType) !== CHUNK_CONTENT_TYPE) {
      throw new ApiError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `a chunk's body must be ${CHUNK_CONTENT_TYPE}, got ${contentType ?? 'no Content-Type'}`,
      );
    }
    if (contentLength === undefined) throw lengthRequired();
    if (declaredSha256 !== undefined && !SHA256_HEX.test(declaredSha256)) {
      throw badRequest('VALIDATION_FAILED', 'X-Chunk-SHA256 must be 64 hexadecimal characters');
    }
    const { created, chunk } = await this.putChunk.run({
      uploadId,
      ownerId: user.userId,
      index: Number(n),
      contentLength: Number(contentLength),
      ...(declaredSha256 === undefined ? {} : { declaredSha256: declaredSha256.toLowerCase() }),
      raw: request.raw,
    });
    if (!created) void reply.status(200);
    return chunk;
  }
}
