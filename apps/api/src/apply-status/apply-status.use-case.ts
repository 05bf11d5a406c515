import { Inject, Injectable } from '@nestjs/common';
import { type MessageStatus, type MessageStatusUpdate } from '@fleet/contracts';
import { sqlOf, type DataSource } from '@fleet/db';
import { type Logger } from '@fleet/observability';
import { type RedisClient } from '@fleet/redis';
import { SERVICE_LOGGER } from '@fleet/service-kit';
import { API_METRICS, DATA_SOURCE, REDIS_CLIENT } from '../app.tokens';
import { conversationChannel, type MessageStatusChanged } from '../conversation-events/conversation-events';
import { type ApiMetrics } from '../http/api.metrics';

/** What applying one update did. */
export type ApplyOutcome = 'applied' | 'stale' | 'unknown_message';

/**
 * Applies a status update from `chat.message.status.1`, idempotently: in one transaction (one call
 * of `chat_apply_status`, whose rules are those of overall-status.ts, checked case by case in
 * chat-apply-status.int-spec.ts), with the message row locked (so two channels' updates of one
 * message cannot race on the overall status), the channel's status moves only forward (FAILED final, carrying its reason); a duplicate or an
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
    const reason = update.status === 'FAILED' ? (update.reason ?? 'FAILED: no reason given') : null;
    // One round trip: the function (migration ApplyStatusFunction1764500000000) locks the message
    // row and applies the rules of overall-status.ts in its own implicit transaction.
    const [row] = await sqlOf(this.dataSource.manager).rows<{
      outcome: ApplyOutcome;
      channel_message_id: string | null;
      message_status: MessageStatus | null;
    }>(
      `SELECT outcome, channel_message_id, message_status
         FROM chat_apply_status($1, $2, $3, $4, $5, $6, $7)`,
      [
        update.messageId,
        update.conversationId,
        update.channel,
        update.status,
        reason,
        update.channelMessageId ?? null,
        update.occurredAt,
      ],
    );
    const result: { outcome: ApplyOutcome; event?: MessageStatusChanged } =
      row?.outcome === 'applied'
        ? {
            outcome: 'applied',
            event: {
              type: 'message.status',
              conversationId: update.conversationId,
              messageId: update.messageId,
              channel: update.channel,
              status: update.status,
              reason,
              channelMessageId: row.channel_message_id,
              messageStatus: row.message_status!,
              occurredAt: update.occurredAt,
            },
          }
        : { outcome: row?.outcome ?? 'unknown_message' };

    this.metrics.statusUpdates.inc({ channel: update.channel, outcome: result.outcome });
    if (result.outcome === 'unknown_message') {
      this.logger.warn(
        { messageId: update.messageId, conversationId: update.conversationId, channel: update.channel },
        'status update for an unknown message (or channel) ignored',
      );
    }
    if (result.event) await this.announce(result.event);
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
