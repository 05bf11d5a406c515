import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type DataSource } from '@fleet/db';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { conversationOf, messageById } from '../chat/chat.repository';
import { parseId } from '../chat/chat.schemas';
import { messageViewSchema, toMessageView, type MessageView } from '../chat/chat.views';
import { notFound } from '../http/api.errors';
import { errorResponse, openApiSchema } from '../http/openapi';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('v1/conversations')
@UseGuards(AuthGuard)
export class GetMessageController {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  @Get(':id/messages/:messageId')
  @ApiOperation({ summary: 'One message with its status per channel, failure reason and channel message id' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'messageId', format: 'uuid' })
  @ApiResponse({
    status: 200,
    description: 'The message.',
    schema: openApiSchema(messageViewSchema, 'output'),
  })
  @ApiResponse(errorResponse(400, 'Malformed id.'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, 'Not a participant.'))
  @ApiResponse(errorResponse(404, 'No such conversation or message.'))
  async get(
    @CurrentUser() user: Principal,
    @Param('id') id: string,
    @Param('messageId') messageIdParam: string,
  ): Promise<MessageView> {
    const conversationId = parseId(id, 'conversation id');
    const messageId = parseId(messageIdParam, 'message id');
    await conversationOf(this.dataSource.manager, conversationId, user.userId);
    const row = await messageById(this.dataSource.manager, messageId);
    if (!row || row.conversation_id !== conversationId) throw notFound(`message ${messageId} not found`);
    return toMessageView(row);
  }
}
