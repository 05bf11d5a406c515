import { Inject, Injectable } from '@nestjs/common';
import { type MessageStatus, type MessageStatusUpdate } from '@fleet/contracts';
import { type DataSource } from '@fleet/db';
import { type Logger } from '@fleet/observability';
import { type RedisClient } from '@fleet/redis';
import { SERVICE_LOGGER } from '@fleet/service-kit';
import { API_METRICS, DATA_SOURCE, REDIS_CLIENT } from '../app.tokens';
import { conversationChannel, type MessageStatusChanged } from '../conversation-events/conversation-events';
import { type ApiMetrics } from '../http/api.metrics';
import { advances, overallStatus } from './overall-status';

/** What applying one update did. */
export type ApplyOutcome = 'applied' | 'stale' | 'unknown_message';

interface DeliveryRow {
  channel: string;
  status: MessageStatus;
  channel_message_id: string | null;
}

/**
 * Applies a status update from `chat.message.status.1`, idempotently: in one transaction, with the
 * message row locked (so two channels' updates of one message cannot race on the overall status),
 * the channel's status moves only forward (FAILED final, carrying its reason); a duplicate or an
 * older update changes nothing. On an actual change, after commit, the change is announced on the
 * conversation's Redis channel for WebSocket subscribers (best effort: a lost announcement never
 * loses the status, which clients can always read back).
 */
@Injectable()
export class ApplyStatus {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async run(update: MessageStatusUpdate): Promise<ApplyOutcome> {
    const result = await this.dataSource.transaction(async (tx) => {
      const messages: Array<{ conversation_id: string; status: MessageStatus }> = await tx.query(
        `SELECT conversation_id, status FROM messages WHERE id = $1 FOR UPDATE`,
        [update.messageId],
      );
      const message = messages[0];
      if (!message || message.conversation_id !== update.conversationId)
        return { outcome: 'unknown_message' as const };
      const deliveries: DeliveryRow[] = await tx.query(
        `SELECT channel, status, channel_message_id FROM message_deliveries WHERE message_id = $1`,
        [update.messageId],
      );
      const delivery = deliveries.find((d) => d.channel === update.channel);
      if (!delivery) return { outcome: 'unknown_message' as const };

      if (!advances(delivery.status, update.status)) {
        // The channel's id may still be news (a webhook overtook the router's SENT): keep it, quietly.
        if (update.channelMessageId && !delivery.channel_message_id) {
          await tx.query(
            `UPDATE message_deliveries SET channel_message_id = $3 WHERE message_id = $1 AND channel = $2`,
            [update.messageId, update.channel, update.channelMessageId],
          );
        }
        return { outcome: 'stale' as const };
      }

      const reason = update.status === 'FAILED' ? (update.reason ?? 'FAILED: no reason given') : null;
      const [rows] = (await tx.query(
        `UPDATE message_deliveries
            SET status = $3, reason = $4, channel_message_id = COALESCE($5, channel_message_id),
                occurred_at = $6, updated_at = now()
          WHERE message_id = $1 AND channel = $2
          RETURNING channel_message_id`,
        [
          update.messageId,
          update.channel,
          update.status,
          reason,
          update.channelMessageId ?? null,
          update.occurredAt,
        ],
      )) as [Array<{ channel_message_id: string | null }>, number];
      const messageStatus = overallStatus(
        deliveries.map((d) => (d.channel === update.channel ? update.status : d.status)),
      );
      if (messageStatus !== message.status) {
        await tx.query(`UPDATE messages SET status = $2, updated_at = now() WHERE id = $1`, [
          update.messageId,
          messageStatus,
        ]);
      }
      const event: MessageStatusChanged = {
        type: 'message.status',
        conversationId: update.conversationId,
        messageId: update.messageId,
        channel: update.channel,
        status: update.status,
        reason,
        channelMessageId: rows[0]?.channel_message_id ?? null,
        messageStatus,
        occurredAt: update.occurredAt,
      };
      return { outcome: 'applied' as const, event };
    });

    this.metrics.statusUpdates.inc({ channel: update.channel, outcome: result.outcome });
    if (result.outcome === 'unknown_message') {
      this.logger.warn(
        { messageId: update.messageId, conversationId: update.conversationId, channel: update.channel },
        'status update for an unknown message (or channel) ignored',
      );
    }
    if ('event' in result && result.event) await this.announce(result.event);
    return result.outcome;
  }

  private async announce(event: MessageStatusChanged): Promise<void> {
    try {
      await this.redis.publish(conversationChannel(event.conversationId), JSON.stringify(event));
    } catch (error) {
      this.metrics.eventsPublishFailed.inc();
      this.logger.warn(
        { err: error, messageId: event.messageId },
        'status change committed but not announced',
      );
    }
  }
}
