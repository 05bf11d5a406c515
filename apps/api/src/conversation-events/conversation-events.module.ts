import { Module } from '@nestjs/common';
import { EventsGateway } from './events.gateway';

/** The WebSocket gateway for conversations' live events. */
@Module({ providers: [EventsGateway] })
export class ConversationEventsModule {}
