import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  CHANNEL_TEXT_LIMITS,
  chatMessageOutgoing,
  deliveryChannelsOf,
  inNamespace,
  type ChatChannel,
  type DeliveryChannel,
  type MessageStatus,
} from '@fleet/contracts';
import { sqlOf, type DataSource, type EntityManager } from '@fleet/db';
import { outboxRowValues, prepareOutboxRow } from '@fleet/outbox';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { ConversationCache } from '../chat/conversation-cache';
import { type Config } from '../config';
import { ApiError, badRequest, notFound } from '../http/api.errors';
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

/** Each conversation's delivery channels and the smallest of their text limits. */
const CHANNEL_PLANS = Object.fromEntries(
  (['whatsapp', 'instagram', 'all'] as const).map((channel) => {
    const channels = deliveryChannelsOf(channel);
    return [channel, { channels, limit: Math.min(...channels.map((c) => CHANNEL_TEXT_LIMITS[c])) }];
  }),
) as Record<ChatChannel, { channels: DeliveryChannel[]; limit: number }>;

type SendOutcome = 'not_found' | 'existing' | 'race' | 'created';

/**
 * Accepts a message: validate → store the message, its per-channel deliveries and its
 * `chat.message.outgoing.1` outbox event in ONE transaction: one call of `chat_send_message`
 * (migration SendMessageFunction1764800000000), one round trip. The function locks the
 * conversation row first (`FOR UPDATE`), so messages of one conversation get consecutive `seq`
 * values and outbox rows in the same order: the order the router delivers them in. Nothing is
 * published to Kafka here.
 *
 * The conversation (participants, channel, recipients: immutable) comes from a per-process cache,
 * so the outbox payload is built and validated against the topic's schema before the call, and a
 * request for a conversation the caller is not in never reaches the write.
 *
 * Idempotency: (sender, Idempotency-Key) is unique. The same key with the same conversation and
 * text returns the stored message; with anything else it is refused (422) and nothing changes.
 */
@Injectable()
export class SendMessage {
  private readonly conversations = new ConversationCache();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {}

  async run(command: SendMessageCommand): Promise<SendMessageResult> {
    const { conversationId, senderId, idempotencyKey, input } = command;
    const manager = this.dataSource.manager;
    const conversation = await this.conversations.participantOf(manager, conversationId, senderId);
    const { channels, limit } = CHANNEL_PLANS[conversation.channel];
    const requestHash = hashRequest(conversationId, input.text);
    const messageId = randomUUID();
    const createdAt = new Date();
    const event = prepareOutboxRow(inNamespace(chatMessageOutgoing, this.config.KAFKA_TOPIC_NAMESPACE), {
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
        createdAt: createdAt.toISOString(),
      },
    });
    const send = async (): Promise<MessageKeyRow & { outcome: SendOutcome }> => {
      const [row] = await sqlOf(manager).rows<MessageKeyRow & { outcome: SendOutcome }>(
        `SELECT outcome, id, conversation_id, request_hash, status, created_at
           FROM chat_send_message($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [
          conversationId,
          senderId,
          idempotencyKey,
          requestHash,
          input.text,
          messageId,
          createdAt,
          channels,
          ...outboxRowValues(event),
        ],
      );
      return row!;
    };
    const tooLong = input.text.length > limit;
    // A text over the limit is refused without a write, but a stored key still answers first.
    let row = tooLong ? await this.existing(senderId, idempotencyKey) : await send();
    // Lost the race to a concurrent request with our key: its row is visible now, answer from it.
    if (row?.outcome === 'race') row = await send();
    if (row?.outcome === 'not_found') throw notFound(`conversation ${conversationId} not found`);
    if (row?.outcome === 'existing') {
      if (row.request_hash !== requestHash) {
        throw new ApiError(
          422,
          'IDEMPOTENCY_KEY_REUSED',
          'this Idempotency-Key was already used for a different message; use a new key',
        );
      }
      this.metrics.messagesReplayed.inc();
      return { message: toAccepted(row), replayed: true };
    }
    if (!row || tooLong) {
      throw badRequest(
        'TEXT_TOO_LONG',
        `text is ${input.text.length} characters; this conversation's channels (${channels.join(', ')}) take at most ${limit}`,
        { length: input.text.length, limit },
      );
    }
    if (row.outcome !== 'created') throw new Error(`chat_send_message answered ${row.outcome}`);
    this.metrics.messagesAccepted.inc({ channel: conversation.channel });
    return { message: toAccepted(row), replayed: false };
  }

  private async existing(
    senderId: string,
    key: string,
  ): Promise<(MessageKeyRow & { outcome: 'existing' }) | undefined> {
    const row = await findByKey(this.dataSource.manager, senderId, key);
    return row && { ...row, outcome: 'existing' };
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
