import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { conversationViewSchema, type ConversationView } from '../chat/chat.views';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import { createConversationSchema } from './create-conversation.schema';
import { CreateConversation } from './create-conversation.use-case';

@ApiTags('conversations')
@ApiBearerAuth()
@Controller('v1/conversations')
@UseGuards(AuthGuard)
export class CreateConversationController {
  constructor(@Inject(CreateConversation) private readonly createConversation: CreateConversation) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create a conversation',
    description:
      'The caller is always a participant. The recipients must cover the channel(s): `all` needs both.',
  })
  @ApiBody({ schema: openApiSchema(createConversationSchema) })
  @ApiResponse({
    status: 201,
    description: 'Created.',
    schema: openApiSchema(conversationViewSchema, 'output'),
  })
  @ApiResponse(
    errorResponse(400, 'Invalid body (VALIDATION_FAILED, INVALID_JSON, EMPTY_BODY, INVALID_STRING).'),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  async create(@CurrentUser() user: Principal, @Body() body: unknown): Promise<ConversationView> {
    return this.createConversation.run(user.userId, parseInput(createConversationSchema, body, 'body'));
  }
}
