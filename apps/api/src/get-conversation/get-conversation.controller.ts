import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type DataSource } from '@fleet/db';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { conversationOf } from '../chat/chat.repository';
import { parseId } from '../chat/chat.schemas';
import { conversationViewSchema, toConversationView, type ConversationView } from '../chat/chat.views';
import { errorResponse, openApiSchema } from '../http/openapi';

@ApiTags('conversations')
@ApiBearerAuth()
@Controller('v1/conversations')
@UseGuards(AuthGuard)
export class GetConversationController {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  @Get(':id')
  @ApiOperation({ summary: 'Get a conversation (participants only)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({
    status: 200,
    description: 'The conversation.',
    schema: openApiSchema(conversationViewSchema, 'output'),
  })
  @ApiResponse(errorResponse(400, 'Malformed id (INVALID_ID).'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, 'Not a participant.'))
  @ApiResponse(errorResponse(404, 'No such conversation.'))
  async get(@CurrentUser() user: Principal, @Param('id') id: string): Promise<ConversationView> {
    const conversationId = parseId(id, 'conversation id');
    return toConversationView(await conversationOf(this.dataSource.manager, conversationId, user.userId));
  }
}
