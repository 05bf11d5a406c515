import { Body, Controller, Headers, HttpCode, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { parseId } from '../chat/chat.schemas';
import { badRequest } from '../http/api.errors';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import {
  acceptedMessageSchema,
  IDEMPOTENCY_KEY,
  sendMessageSchema,
  type AcceptedMessage,
} from './send-message.schema';
import { SendMessage } from './send-message.use-case';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('v1/conversations')
@UseGuards(AuthGuard)
export class SendMessageController {
  constructor(@Inject(SendMessage) private readonly sendMessage: SendMessage) {}

  @Post(':id/messages')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a message',
    description:
      'Stores the message and its outbox event in one transaction and answers 202: delivery happens ' +
      'asynchronously (watch its status, or the WebSocket). The same Idempotency-Key again (same ' +
      'sender) answers the same message and stores nothing; with a different body it is refused (422).',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'Conversation id.' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: '1–200 printable ASCII characters, unique per message.',
  })
  @ApiBody({ schema: openApiSchema(sendMessageSchema) })
  @ApiResponse({
    status: 202,
    description: 'Accepted (or replayed).',
    schema: openApiSchema(acceptedMessageSchema, 'output'),
  })
  @ApiResponse(
    errorResponse(
      400,
      'Bad input: INVALID_ID, IDEMPOTENCY_KEY_MISSING/INVALID, EMPTY_BODY, INVALID_JSON, INVALID_STRING (NUL, lone surrogate), VALIDATION_FAILED, TEXT_TOO_LONG.',
    ),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, 'Not a participant.'))
  @ApiResponse(errorResponse(404, 'No such conversation.'))
  @ApiResponse(errorResponse(422, 'Idempotency-Key reused with a different body.'))
  @ApiResponse(errorResponse(429, 'Rate limited (Retry-After).'))
  async send(
    @CurrentUser() user: Principal,
    @Param('id') id: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AcceptedMessage> {
    const conversationId = parseId(id, 'conversation id');
    if (idempotencyKey === undefined || idempotencyKey === '') {
      throw badRequest('IDEMPOTENCY_KEY_MISSING', 'the Idempotency-Key header is required');
    }
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw badRequest('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1–200 printable ASCII characters');
    }
    const input = parseInput(sendMessageSchema, body, 'body');
    const { message, replayed } = await this.sendMessage.run({
      conversationId,
      senderId: user.userId,
      idempotencyKey,
      input,
    });
    if (replayed) void reply.header('idempotent-replayed', 'true');
    return message;
  }
}
