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
 * message cannot race on the overall status), the channel's status moves only forward (FAILED final, carrying its reason, except for a SENT
 * from an operator's redrive); a duplicate or an
 * older update changes nothing. On an actual change, after commit, the change is announced on the
 * conversation's Redis channel for WebSocket subscribers (best effort: a lost announcement never
 * loses the status, which clients can always read back). The status consumer applies each fetched
 * run of updates with {@link ApplyStatus.runBatch}: one statement and one Redis round trip for all.
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
    const [outcome] = await this.runBatch([update]);
    return outcome!;
  }

  /**
   * Applies updates in order in one statement (one round trip, one transaction): each is one call
   * of `chat_apply_status`, exactly as {@link ApplyStatus.run} would make it, so a batch that fails
   * (a deadlock with another replica during a rebalance) changes nothing and can be applied again
   * update by update. Changes are announced after the commit, in one Redis round trip.
   */
  async runBatch(updates: readonly MessageStatusUpdate[]): Promise<ApplyOutcome[]> {
    if (updates.length === 0) return [];
    const reasons = updates.map((update) =>
      update.status === 'FAILED' ? (update.reason ?? 'FAILED: no reason given') : null,
    );
    // The function (migration ApplyStatusOnRedrive1765300000000) locks each message row and applies
    // the rules of overall-status.ts; called per row in input order, each call sees the previous.
    const rows = await sqlOf(this.dataSource.manager).rows<{
      n: string;
      outcome: ApplyOutcome;
      channel_message_id: string | null;
      message_status: MessageStatus | null;
    }>(
      `SELECT u.n, s.outcome, s.channel_message_id, s.message_status
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
                     $8::uuid[])
              WITH ORDINALITY AS u(message_id, conversation_id, channel, status, reason, channel_message_id,
                                   occurred_at, redrive_id, n)
        CROSS JOIN LATERAL chat_apply_status(u.message_id, u.conversation_id, u.channel, u.status, u.reason,
                                             u.channel_message_id, u.occurred_at, u.redrive_id) s
        ORDER BY u.n`,
      [
        updates.map((u) => u.messageId),
        updates.map((u) => u.conversationId),
        updates.map((u) => u.channel),
        updates.map((u) => u.status),
        reasons,
        updates.map((u) => u.channelMessageId ?? null),
        updates.map((u) => u.occurredAt),
        updates.map((u) => u.redriveId ?? null),
      ],
    );
    const byIndex = new Map(rows.map((row) => [Number(row.n) - 1, row]));
    const outcomes: ApplyOutcome[] = [];
    const events: MessageStatusChanged[] = [];
    updates.forEach((update, i) => {
      const row = byIndex.get(i);
      const outcome = row?.outcome ?? 'unknown_message';
      outcomes.push(outcome);
      this.metrics.statusUpdates.inc({ channel: update.channel, outcome });
      if (outcome === 'unknown_message') {
        this.logger.warn(
          { messageId: update.messageId, conversationId: update.conversationId, channel: update.channel },
          'status update for an unknown message (or channel) ignored',
        );
      }
      if (outcome === 'applied') {
        events.push({
          type: 'message.status',
          conversationId: update.conversationId,
          messageId: update.messageId,
          channel: update.channel,
          status: update.status,
          reason: reasons[i]!,
          channelMessageId: row!.channel_message_id,
          messageStatus: row!.message_status!,
          occurredAt: update.occurredAt,
        });
      }
    });
    await this.announce(events);
    return outcomes;
  }

  private async announce(events: readonly MessageStatusChanged[]): Promise<void> {
    if (events.length === 0) return;
    try {
      const pipeline = this.redis.pipeline();
      for (const event of events)
        pipeline.publish(conversationChannel(event.conversationId), JSON.stringify(event));
      const results = (await pipeline.exec()) ?? [];
      const failed = results.filter(([error]) => error !== null);
      if (failed.length > 0) throw failed[0]![0];
    } catch (error) {
      this.metrics.eventsPublishFailed.inc(events.length);
      this.logger.warn(
        { err: error, messageIds: events.map((event) => event.messageId) },
        'status change committed but not announced',
      );
    }
  }
}
