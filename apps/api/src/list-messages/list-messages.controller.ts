import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type DataSource } from '@fleet/db';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { conversationOf, MESSAGE_COLUMNS } from '../chat/chat.repository';
import { parseId } from '../chat/chat.schemas';
import { toMessageView, type MessageRow } from '../chat/chat.views';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import { listMessagesQuerySchema, messagePageSchema } from './list-messages.schema';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('v1/conversations')
@UseGuards(AuthGuard)
export class ListMessagesController {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  @Get(':id/messages')
  @ApiOperation({
    summary: "List a conversation's messages, newest first",
    description:
      'Cursor pagination: pass `nextCursor` as `before` for older messages. Each message carries its ' +
      'overall status and one delivery per channel.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
  })
  @ApiQuery({ name: 'before', required: false, schema: { type: 'string' } })
  @ApiResponse({
    status: 200,
    description: 'A page of messages.',
    schema: openApiSchema(messagePageSchema, 'output'),
  })
  @ApiResponse(errorResponse(400, 'Malformed id or query.'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, 'Not a participant.'))
  @ApiResponse(errorResponse(404, 'No such conversation.'))
  async list(@CurrentUser() user: Principal, @Param('id') id: string, @Query() query: unknown) {
    const conversationId = parseId(id, 'conversation id');
    const { limit, before } = parseInput(listMessagesQuerySchema, query, 'query');
    await conversationOf(this.dataSource.manager, conversationId, user.userId);
    // One extra row tells whether an older page exists.
    const rows: MessageRow[] = await this.dataSource.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m
        WHERE m.conversation_id = $1 AND ($2::bigint IS NULL OR m.seq < $2::bigint)
        ORDER BY m.seq DESC LIMIT $3`,
      [conversationId, before ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    return {
      items: page.map(toMessageView),
      nextCursor: rows.length > limit ? page[page.length - 1]!.seq : null,
    };
  }
}
