import { Inject, Injectable } from '@nestjs/common';
import { type ChannelStatusEvent } from '@fleet/channels';
import {
  chatMessageStatus,
  inNamespace,
  messageStatusUpdateSchema,
  type DeliveryChannel,
  type MessageStatus,
  type MessageStatusUpdate,
} from '@fleet/contracts';
import { type DataSource, type EntityManager } from '@fleet/db';
import { type Logger } from '@fleet/observability';
import { enqueueAll, prepareOutboxRow, type PreparedOutboxRow } from '@fleet/outbox';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { advances } from '../apply-status/overall-status';
import { uuidParam } from '../chat/chat.schemas';
import { type Config } from '../config';
import { type ApiMetrics } from '../http/api.metrics';

export interface WebhookResult {
  received: number;
  enqueued: number;
  /** Events for messages we do not know. */
  ignored: number;
  /** Events that could change nothing (the delivery is already at or past their status). */
  skipped: number;
}

interface Target {
  messageId: string;
  conversationId: string;
  /** The delivery's status and channel id when looked up. */
  status: MessageStatus;
  channelMessageId: string | null;
}

/**
 * Turns a verified webhook's status events into `chat.message.status.1` events through the outbox
 * (one statement for the whole delivery, two round trips in all), so they reach the same
 * `api-status` consumer as the router's and are applied with the same forward-only rule. A
 * WhatsApp event names our message in `biz_opaque_callback_data`; an Instagram event only by the
 * channel's `mid`, which the router's SENT stored on the delivery row. Events for messages we do
 * not know are ignored (logged, counted): answering an error would make Meta retry them for days.
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
    const result = { received: events.length, enqueued: 0, ignored: 0, skipped: 0 };
    if (events.length === 0) return result;
    const topic = inNamespace(chatMessageStatus, this.config.KAFKA_TOPIC_NAMESPACE);
    const manager = this.dataSource.manager;
    // Only events of the channel the webhook came from are looked up; the others stay unknown.
    const targets = await findTargets(
      manager,
      channel,
      events.filter((event) => event.channel === channel),
    );
    const rows: PreparedOutboxRow[] = [];
    for (const event of events) {
      const target = targets.get(event);
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
      if (!target || !update || !messageStatusUpdateSchema.safeParse(update).success) {
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
      if (isNoOp(target, update)) {
        result.skipped++;
        this.metrics.webhookEvents.inc({ channel, outcome: 'stale' });
        continue;
      }
      rows.push(
        prepareOutboxRow(topic, {
          aggregateType: 'conversation',
          aggregateKey: update.conversationId,
          eventType: 'chat.message.status',
          payload: update,
        }),
      );
    }
    // One statement for the whole delivery: all of its events are enqueued, or none.
    await enqueueAll(manager, rows);
    result.enqueued = rows.length;
    if (rows.length > 0) this.metrics.webhookEvents.inc({ channel, outcome: 'enqueued' }, rows.length);
    return result;
  }
}

/**
 * The message each event is about, in one query: by our message id (WhatsApp echoes it in
 * `biz_opaque_callback_data`) when it names a delivery on `channel`, else by the channel's own
 * message id, which the router's SENT stored on the delivery row.
 */
async function findTargets(
  manager: EntityManager,
  channel: DeliveryChannel,
  events: readonly ChannelStatusEvent[],
): Promise<Map<ChannelStatusEvent, Target>> {
  const found = new Map<ChannelStatusEvent, Target>();
  if (events.length === 0) return found;
  const rows: Array<{
    n: string;
    message_id: string;
    conversation_id: string;
    status: MessageStatus;
    channel_message_id: string | null;
  }> = await manager.query(
    `SELECT e.n, t.message_id, t.conversation_id, t.status, t.channel_message_id
       FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS e(message_id, channel_message_id, n)
       CROSS JOIN LATERAL (
         (SELECT d.message_id, m.conversation_id, d.status, d.channel_message_id
            FROM message_deliveries d JOIN messages m ON m.id = d.message_id
           WHERE d.message_id = e.message_id AND d.channel = $3)
         UNION ALL
         (SELECT d.message_id, m.conversation_id, d.status, d.channel_message_id
            FROM message_deliveries d JOIN messages m ON m.id = d.message_id
           WHERE d.channel = $3 AND d.channel_message_id = e.channel_message_id)
         LIMIT 1) t`,
    [
      events.map((event) =>
        event.messageId !== undefined && uuidParam.safeParse(event.messageId).success
          ? event.messageId
          : null,
      ),
      events.map((event) => event.channelMessageId),
      channel,
    ],
  );
  for (const row of rows) {
    found.set(events[Number(row.n) - 1]!, {
      messageId: row.message_id,
      conversationId: row.conversation_id,
      status: row.status,
      channelMessageId: row.channel_message_id,
    });
  }
  return found;
}

/**
 * Whether applying `update` could change nothing: the delivery is already at or past its status
 * (`advances`, the rule the status consumer applies) and the update brings no channel id the row
 * lacks. WhatsApp's `sent` webhook usually arrives after the router's own SENT was applied; such
 * events are not enqueued, which takes a third of the status traffic off the outbox, Kafka and its
 * two consumer groups. The router loses no confirmation by it: the delivery's status only ever got
 * there through an event already on the topic (the router's own SENT, written after its row was
 * final, or an earlier webhook event, which it reads).
 */
function isNoOp(target: Target, update: MessageStatusUpdate): boolean {
  return (
    !advances(target.status, update.status) &&
    (update.channelMessageId === undefined || target.channelMessageId !== null)
  );
}
