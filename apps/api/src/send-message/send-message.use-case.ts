import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  CHANNEL_TEXT_LIMITS,
  chatMessageOutgoing,
  deliveryChannelsOf,
  inNamespace,
  type MessageStatus,
} from '@fleet/contracts';
import { type DataSource, type EntityManager } from '@fleet/db';
import { enqueue } from '@fleet/outbox';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { conversationOf } from '../chat/chat.repository';
import { type Config } from '../config';
import { ApiError, badRequest } from '../http/api.errors';
import { type ApiMetrics } from '../http/api.metrics';
import { type AcceptedMessage, type SendMessageInput } from './send-message.schema';

export interface SendMessageCommand {
  conversationId: string;
  senderId: string;
  idempotencyKey: string;
  input: SendMessageInput;
}

export interface SendMessageResult {
  message: AcceptedMessage;
  /** true when the key was seen before and the stored message is returned. */
  replayed: boolean;
}

/** Another request with the same sender and key committed between our look-up and our insert. */
class IdempotencyRace extends Error {}

/**
 * Accepts a message: validate → store the message, its per-channel deliveries and its
 * `chat.message.outgoing.1` outbox event in ONE transaction. The conversation row is locked first
 * (`FOR UPDATE`), so messages of one conversation get consecutive `seq` values and outbox rows in
 * the same order: the order the router delivers them in. Nothing is published to Kafka here.
 *
 * Idempotency: (sender, Idempotency-Key) is unique. The same key with the same conversation and
 * text returns the stored message; with anything else it is refused (422) and nothing changes.
 */
@Injectable()
export class SendMessage {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {}

  async run(command: SendMessageCommand): Promise<SendMessageResult> {
    try {
      return await this.attempt(command);
    } catch (error) {
      // Lost the race to a concurrent request with our key: its row is visible now, answer from it.
      if (error instanceof IdempotencyRace) return this.attempt(command);
      throw error;
    }
  }

  private async attempt(command: SendMessageCommand): Promise<SendMessageResult> {
    const { conversationId, senderId, idempotencyKey, input } = command;
    const requestHash = hashRequest(conversationId, input.text);
    const result = await this.dataSource.transaction(async (tx) => {
      const conversation = await conversationOf(tx, conversationId, senderId, { lock: true });

      const previous = await findByKey(tx, senderId, idempotencyKey);
      if (previous) {
        if (previous.request_hash !== requestHash) {
          throw new ApiError(
            422,
            'IDEMPOTENCY_KEY_REUSED',
            'this Idempotency-Key was already used for a different message; use a new key',
          );
        }
        return { message: toAccepted(previous), replayed: true };
      }

      const channels = deliveryChannelsOf(conversation.channel);
      const limit = Math.min(...channels.map((channel) => CHANNEL_TEXT_LIMITS[channel]));
      if (input.text.length > limit) {
        throw badRequest(
          'TEXT_TOO_LONG',
          `text is ${input.text.length} characters; this conversation's channels (${channels.join(', ')}) take at most ${limit}`,
          { length: input.text.length, limit },
        );
      }

      // TypeORM answers an UPDATE with [rows, rowCount].
      const [counted] = (await tx.query(
        `UPDATE conversations SET message_count = message_count + 1 WHERE id = $1 RETURNING message_count`,
        [conversationId],
      )) as [Array<{ message_count: string }>, number];
      const seq = counted[0]!.message_count;
      const messageId = randomUUID();
      const inserted: MessageKeyRow[] = await tx.query(
        `INSERT INTO messages (id, conversation_id, seq, sender_id, idempotency_key, request_hash, text)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (sender_id, idempotency_key) DO NOTHING
         RETURNING id, conversation_id, request_hash, status, created_at`,
        [messageId, conversationId, seq, senderId, idempotencyKey, requestHash, input.text],
      );
      const row = inserted[0];
      if (!row) throw new IdempotencyRace();
      await tx.query(`INSERT INTO message_deliveries (message_id, channel) SELECT $1, unnest($2::text[])`, [
        messageId,
        channels,
      ]);
      await enqueue(tx, inNamespace(chatMessageOutgoing, this.config.KAFKA_TOPIC_NAMESPACE), {
        id: messageId,
        aggregateType: 'conversation',
        aggregateKey: conversationId,
        eventType: 'chat.message.created',
        payload: {
          messageId,
          conversationId,
          senderId,
          channel: conversation.channel,
          text: input.text,
          recipients: conversation.recipients,
          createdAt: row.created_at.toISOString(),
        },
      });
      return { message: toAccepted(row), replayed: false, channel: conversation.channel };
    });
    if (result.replayed) this.metrics.messagesReplayed.inc();
    else if ('channel' in result) this.metrics.messagesAccepted.inc({ channel: result.channel });
    return { message: result.message, replayed: result.replayed };
  }
}

interface MessageKeyRow {
  id: string;
  conversation_id: string;
  request_hash: string;
  status: MessageStatus;
  created_at: Date;
}

async function findByKey(
  tx: EntityManager,
  senderId: string,
  key: string,
): Promise<MessageKeyRow | undefined> {
  const rows: MessageKeyRow[] = await tx.query(
    `SELECT id, conversation_id, request_hash, status, created_at
       FROM messages WHERE sender_id = $1 AND idempotency_key = $2`,
    [senderId, key],
  );
  return rows[0];
}

function toAccepted(row: MessageKeyRow): AcceptedMessage {
  return {
    id: row.id,
    status: row.status,
    conversationId: row.conversation_id,
    createdAt: row.created_at.toISOString(),
  };
}

/** What the request asked for; a replay must ask for exactly the same. */
export function hashRequest(conversationId: string, text: string): string {
  return createHash('sha256')
    .update(JSON.stringify([conversationId, text]))
    .digest('hex');
}
