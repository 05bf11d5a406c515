import { Inject, Injectable } from '@nestjs/common';
import { type ChannelStatusEvent } from '@fleet/channels';
import {
  chatMessageStatus,
  inNamespace,
  messageStatusUpdateSchema,
  type DeliveryChannel,
  type MessageStatusUpdate,
} from '@fleet/contracts';
import { type DataSource, type EntityManager } from '@fleet/db';
import { type Logger } from '@fleet/observability';
import { enqueue } from '@fleet/outbox';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { uuidParam } from '../chat/chat.schemas';
import { type Config } from '../config';
import { type ApiMetrics } from '../http/api.metrics';

export interface WebhookResult {
  received: number;
  enqueued: number;
  ignored: number;
}

interface Target {
  messageId: string;
  conversationId: string;
}

/**
 * Turns a verified webhook's status events into `chat.message.status.1` events through the outbox
 * (one transaction for the whole delivery), so they reach the same `api-status` consumer as the
 * router's and are applied with the same forward-only rule. A WhatsApp event names our message in
 * `biz_opaque_callback_data`; an Instagram event only by the channel's `mid`, which the router's
 * SENT stored on the delivery row. Events for messages we do not know are ignored (logged, counted):
 * answering an error would make Meta retry them for days.
 */
@Injectable()
export class ReceiveWebhook {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {}

  async run(channel: DeliveryChannel, events: readonly ChannelStatusEvent[]): Promise<WebhookResult> {
    const result = { received: events.length, enqueued: 0, ignored: 0 };
    if (events.length === 0) return result;
    await this.dataSource.transaction(async (tx) => {
      for (const event of events) {
        const target = event.channel === channel ? await findTarget(tx, event) : undefined;
        const update: MessageStatusUpdate | undefined = target && {
          messageId: target.messageId,
          conversationId: target.conversationId,
          channel: event.channel,
          status: event.status,
          ...(event.reason === undefined ? {} : { reason: event.reason.slice(0, 2_000) }),
          channelMessageId: event.channelMessageId,
          occurredAt: event.occurredAt,
          source: 'webhook',
        };
        if (!update || !messageStatusUpdateSchema.safeParse(update).success) {
          result.ignored++;
          this.metrics.webhookEvents.inc({ channel, outcome: 'unknown_message' });
          this.logger.warn(
            {
              channel,
              channelMessageId: event.channelMessageId,
              messageId: event.messageId,
              status: event.status,
            },
            'webhook status for an unknown message ignored',
          );
          continue;
        }
        await enqueue(tx, inNamespace(chatMessageStatus, this.config.KAFKA_TOPIC_NAMESPACE), {
          aggregateType: 'conversation',
          aggregateKey: update.conversationId,
          eventType: 'chat.message.status',
          payload: update,
        });
        result.enqueued++;
        this.metrics.webhookEvents.inc({ channel, outcome: 'enqueued' });
      }
    });
    return result;
  }
}

async function findTarget(tx: EntityManager, event: ChannelStatusEvent): Promise<Target | undefined> {
  if (event.messageId !== undefined && uuidParam.safeParse(event.messageId).success) {
    const rows: Array<{ message_id: string; conversation_id: string }> = await tx.query(
      `SELECT d.message_id, m.conversation_id FROM message_deliveries d JOIN messages m ON m.id = d.message_id
        WHERE d.message_id = $1 AND d.channel = $2`,
      [event.messageId, event.channel],
    );
    if (rows[0]) return { messageId: rows[0].message_id, conversationId: rows[0].conversation_id };
  }
  const rows: Array<{ message_id: string; conversation_id: string }> = await tx.query(
    `SELECT d.message_id, m.conversation_id FROM message_deliveries d JOIN messages m ON m.id = d.message_id
      WHERE d.channel = $1 AND d.channel_message_id = $2 LIMIT 1`,
    [event.channel, event.channelMessageId],
  );
  return rows[0] ? { messageId: rows[0].message_id, conversationId: rows[0].conversation_id } : undefined;
}
