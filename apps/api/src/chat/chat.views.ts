import {
  CHAT_CHANNELS,
  DELIVERY_CHANNELS,
  MESSAGE_STATUSES,
  recipientsSchema,
  type ChatChannel,
  type DeliveryChannel,
  type MessageStatus,
  type Recipients,
} from '@fleet/contracts';
import { z } from 'zod';

/** A conversation as the api shows it. */
export const conversationViewSchema = z.object({
  id: z.uuid(),
  channel: z.enum(CHAT_CHANNELS),
  recipients: recipientsSchema,
  participants: z.array(z.string()),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
});
export type ConversationView = z.infer<typeof conversationViewSchema>;

export const deliveryViewSchema = z.object({
  channel: z.enum(DELIVERY_CHANNELS),
  status: z.enum(MESSAGE_STATUSES),
  reason: z.string().nullable().meta({ description: 'Why, when FAILED.' }),
  channelMessageId: z
    .string()
    .nullable()
    .meta({ description: "The channel's id (WhatsApp wamid, Instagram mid)." }),
  updatedAt: z.iso.datetime(),
});
export type DeliveryView = z.infer<typeof deliveryViewSchema>;

/** A message with its overall status and each channel's. */
export const messageViewSchema = z.object({
  id: z.uuid(),
  conversationId: z.uuid(),
  senderId: z.string(),
  text: z.string(),
  status: z.enum(MESSAGE_STATUSES).meta({
    description: 'Overall: FAILED when every channel failed, else the least advanced non-failed channel.',
  }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  deliveries: z.array(deliveryViewSchema),
});
export type MessageView = z.infer<typeof messageViewSchema>;

export interface ConversationRow {
  id: string;
  channel: ChatChannel;
  recipients: Recipients;
  participants: string[];
  created_by: string;
  created_at: Date;
}

export function toConversationView(row: ConversationRow): ConversationView {
  return {
    id: row.id,
    channel: row.channel,
    recipients: row.recipients,
    participants: row.participants,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: string;
  sender_id: string;
  text: string;
  status: MessageStatus;
  created_at: Date;
  updated_at: Date;
  deliveries: Array<{
    channel: DeliveryChannel;
    status: MessageStatus;
    reason: string | null;
    channel_message_id: string | null;
    updated_at: string;
  }>;
}

export function toMessageView(row: MessageRow): MessageView {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    senderId: row.sender_id,
    text: row.text,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deliveries: row.deliveries.map((d) => ({
      channel: d.channel,
      status: d.status,
      reason: d.reason,
      channelMessageId: d.channel_message_id,
      updatedAt: new Date(d.updated_at).toISOString(),
    })),
  };
}
