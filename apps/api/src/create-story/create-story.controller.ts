import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import { createdStorySchema, createStorySchema, type CreatedStory } from '../jobs/jobs.schemas';
import { CreateStory } from './create-story.use-case';

/** The route template, for its own body limit (configure-http.ts). */
export const CREATE_STORY_ROUTE = '/v1/stories';

@ApiTags('stories')
@ApiBearerAuth()
@Controller('v1/stories')
@UseGuards(AuthGuard)
export class CreateStoryController {
  constructor(@Inject(CreateStory) private readonly createStory: CreateStory) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create a story and request its enhancement',
    description:
      'Stores the story with local heuristic scores (hype, ethics) and, in the same transaction, a ' +
      '`story_enhancement` job for the generation worker, whose LLM replaces them with its own scores, a reality ' +
      'check and an ELI5 summary. Follow the job at `GET /v1/jobs/{jobId}` or its events.',
  })
  @ApiBody({ schema: openApiSchema(createStorySchema) })
  @ApiResponse({ status: 201, description: 'Created.', schema: openApiSchema(createdStorySchema, 'output') })
  @ApiResponse(
    errorResponse(
      400,
      'VALIDATION_FAILED (title missing, empty or over 300 characters; content missing or empty; unknown fields), INVALID_STRING (NUL, lone surrogate), INVALID_JSON, EMPTY_BODY.',
    ),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(413, 'STORY_CONTENT_TOO_LARGE: content over STORY_CONTENT_MAX_BYTES.'))
  @ApiResponse(errorResponse(415, 'The body is not application/json.'))
  async create(@CurrentUser() user: Principal, @Body() body: unknown): Promise<CreatedStory> {
    return this.createStory.run(user.userId, parseInput(createStorySchema, body, 'body'));
  }
}
