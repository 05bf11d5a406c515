import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { sqlOf, type DataSource } from '@fleet/db';
import { StoryStore } from '@fleet/stories';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { errorResponse, openApiSchema } from '../http/openapi';
import { ownStory, parseStoryId } from '../jobs/jobs.repository';
import { storyViewSchema, toStoryView, type StoryView } from '../jobs/jobs.schemas';

@ApiTags('stories')
@ApiBearerAuth()
@Controller('v1/stories')
@UseGuards(AuthGuard)
export class GetStoryController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(StoryStore) private readonly stories: StoryStore,
  ) {}

  @Get(':id')
  @ApiOperation({
    summary: 'A story of the caller',
    description: 'With its current scores: local until its enhancement job completed (`scoresSource`).',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'Story id.' })
  @ApiResponse({ status: 200, description: 'The story.', schema: openApiSchema(storyViewSchema, 'output') })
  @ApiResponse(errorResponse(400, 'Malformed id (INVALID_ID).'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(404, "No such story (or another user's)."))
  async get(@CurrentUser() user: Principal, @Param('id') id: string): Promise<StoryView> {
    const story = await ownStory(this.stories, sqlOf(this.dataSource.manager), parseStoryId(id), user.userId);
    return toStoryView(story);
  }
}
