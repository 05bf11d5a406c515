import { Module } from '@nestjs/common';
import { AuthGuard } from '../auth/auth.guard';
import { CreateConversationController } from '../create-conversation/create-conversation.controller';
import { CreateConversation } from '../create-conversation/create-conversation.use-case';
import { GetConversationController } from '../get-conversation/get-conversation.controller';
import { GetMessageController } from '../get-message/get-message.controller';
import { ListMessagesController } from '../list-messages/list-messages.controller';
import { SendMessageController } from '../send-message/send-message.controller';
import { SendMessage } from '../send-message/send-message.use-case';

/** The chat HTTP API: conversations and messages. */
@Module({
  controllers: [
    CreateConversationController,
    GetConversationController,
    SendMessageController,
    ListMessagesController,
    GetMessageController,
  ],
  providers: [AuthGuard, CreateConversation, SendMessage],
})
export class ChatModule {}
