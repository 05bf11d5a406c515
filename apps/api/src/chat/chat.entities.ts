import { Column, Entity, PrimaryColumn } from '@fleet/db';
import {
  type ChatChannel,
  type DeliveryChannel,
  type MessageStatus,
  type Recipients,
} from '@fleet/contracts';

/** A row of `conversations` (migration CreateChat1764100000000). */
@Entity({ name: 'conversations' })
export class ConversationEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  channel!: ChatChannel;

  @Column({ type: 'jsonb' })
  recipients!: Recipients;

  @Column({ type: 'text', array: true })
  participants!: string[];

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'message_count', type: 'bigint' })
  messageCount!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** A row of `messages`. `status` is derived from the deliveries (see overall-status.ts). */
@Entity({ name: 'messages' })
export class MessageEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId!: string;

  @Column({ type: 'bigint' })
  seq!: string;

  @Column({ name: 'sender_id', type: 'text' })
  senderId!: string;

  @Column({ name: 'idempotency_key', type: 'text' })
  idempotencyKey!: string;

  @Column({ name: 'request_hash', type: 'text' })
  requestHash!: string;

  @Column({ type: 'text' })
  text!: string;

  @Column({ type: 'text' })
  status!: MessageStatus;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** A row of `message_deliveries`: one message on one channel. */
@Entity({ name: 'message_deliveries' })
export class MessageDeliveryEntity {
  @PrimaryColumn({ name: 'message_id', type: 'uuid' })
  messageId!: string;

  @PrimaryColumn({ type: 'text' })
  channel!: DeliveryChannel;

  @Column({ type: 'text' })
  status!: MessageStatus;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'channel_message_id', type: 'text', nullable: true })
  channelMessageId!: string | null;

  @Column({ name: 'occurred_at', type: 'timestamptz', nullable: true })
  occurredAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

export const API_ENTITIES = [ConversationEntity, MessageEntity, MessageDeliveryEntity] as const;
