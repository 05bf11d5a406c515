import { Module } from '@nestjs/common';
import { ApplyStatusModule } from './apply-status/apply-status.module';
import { ChannelWebhooksModule } from './channel-webhooks/channel-webhooks.module';
import { ChatModule } from './chat/chat.module';
import { ClientsModule } from './clients.module';
import { ConversationEventsModule } from './conversation-events/conversation-events.module';
import { ExportsModule } from './exports/exports.module';
import { JobsModule } from './jobs/jobs.module';
import { OpsBreakersModule } from './ops-breakers/ops-breakers.module';
import { OpsConsoleModule } from './ops-console/ops-console.module';
import { OpsModule } from './ops/ops.module';
import { PoolsModule } from './pools/pools.module';
import { UploadsModule } from './uploads/uploads.module';
import { WebSocketModule } from './websocket/websocket-upgrades';

/** Config, logger and metrics come from runHttpService; this adds the clients and the use cases. */
@Module({
  imports: [
    ClientsModule,
    WebSocketModule,
    ChatModule,
    ApplyStatusModule,
    ConversationEventsModule,
    ChannelWebhooksModule,
    UploadsModule,
    JobsModule,
    PoolsModule,
    ExportsModule,
    OpsConsoleModule,
    OpsBreakersModule,
    OpsModule,
  ],
})
export class AppModule {}
