import { Module } from '@nestjs/common';
import { ChannelWebhooksController } from './channel-webhooks.controller';
import { ReceiveWebhook } from './receive-webhook.use-case';

/** WhatsApp and Instagram status webhooks. */
@Module({ controllers: [ChannelWebhooksController], providers: [ReceiveWebhook] })
export class ChannelWebhooksModule {}
