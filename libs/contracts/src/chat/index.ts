import { z } from 'zod';
import { defineTopic } from '../topic';

/**
 * Chat messaging (seed 004): the api writes outgoing messages through the outbox, the
 * message-router delivers them to the channels and reports their status, the api applies the
 * statuses. Both topics are keyed by conversation id, so one conversation's events keep their order.
 */

/** Where a conversation's messages go; `all` fans out to both channels, each tracked separately. */
export const CHAT_CHANNELS = ['whatsapp', 'instagram', 'all'] as const;
export type ChatChannel = (typeof CHAT_CHANNELS)[number];
/** A single delivery channel (what a status update is about). */
export const DELIVERY_CHANNELS = ['whatsapp', 'instagram'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];

/** The channels a conversation's `channel` setting delivers to. */
export function deliveryChannelsOf(channel: ChatChannel): DeliveryChannel[] {
  return channel === 'all' ? ['whatsapp', 'instagram'] : [channel];
}

/**
 * Longest text each channel accepts, in characters (UTF-16 code units are what both APIs count):
 * WhatsApp Cloud API text bodies 4096, Instagram messages 1000.
 */
export const CHANNEL_TEXT_LIMITS: Readonly<Record<DeliveryChannel, number>> = Object.freeze({
  whatsapp: 4096,
  instagram: 1000,
});

/** Message statuses in the only order they may move: never backwards. FAILED is final. */
export const MESSAGE_STATUSES = ['PENDING', 'SENT', 'DELIVERED', 'READ', 'FAILED'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
/** The statuses a status update can carry (PENDING is where every message starts). */
export const STATUS_UPDATES = ['SENT', 'DELIVERED', 'READ', 'FAILED'] as const;
export type StatusUpdateKind = (typeof STATUS_UPDATES)[number];

/** Rank for "never backwards": a status applies only when its rank is higher than the current one. */
export function statusRank(status: MessageStatus): number {
  return MESSAGE_STATUSES.indexOf(status);
}

/** Channel addresses of the outside party: an E.164 phone number, an Instagram-scoped user id. */
export const recipientsSchema = z
  .object({
    whatsapp: z
      .string()
      .regex(/^\+?[1-9][0-9]{6,14}$/, 'expected an E.164 phone number')
      .optional(),
    instagram: z
      .string()
      .regex(/^[0-9]{1,32}$/, 'expected an Instagram-scoped user id (digits)')
      .optional(),
  })
  .strict();
export type Recipients = z.infer<typeof recipientsSchema>;

export const outgoingMessageSchema = z
  .object({
    messageId: z.string().uuid(),
    conversationId: z.string().uuid(),
    senderId: z.string().min(1).max(200),
    channel: z.enum(CHAT_CHANNELS),
    text: z.string().min(1),
    recipients: recipientsSchema,
    createdAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type OutgoingMessage = z.infer<typeof outgoingMessageSchema>;

export const messageStatusUpdateSchema = z
  .object({
    messageId: z.string().uuid(),
    conversationId: z.string().uuid(),
    channel: z.enum(DELIVERY_CHANNELS),
    status: z.enum(STATUS_UPDATES),
    /** Why, for FAILED: a short code and text, e.g. `TEXT_TOO_LONG: 1200 > 1000 characters`. */
    reason: z.string().max(2_000).optional(),
    /** The channel's own id for the message (WhatsApp `wamid`, Instagram `mid`), once known. */
    channelMessageId: z.string().max(500).optional(),
    occurredAt: z.string().datetime({ offset: true }),
    /** Who observed it: the router (after calling the channel) or a channel webhook. */
    source: z.enum(['router', 'webhook']),
    /**
     * The operator's redrive (`x-redrive-id`) whose channel call this SENT reports: the one way a
     * delivery leaves FAILED (an operator fixed the cause and redrove the dead letter).
     */
    redriveId: z.string().uuid().optional(),
  })
  .strict();
export type MessageStatusUpdate = z.infer<typeof messageStatusUpdateSchema>;

/** Outgoing chat messages to deliver (seed 004's `message_processing`). Key: conversation id. */
export const chatMessageOutgoing = defineTopic({
  name: 'chat.message.outgoing.1',
  schema: outgoingMessageSchema,
  description: 'A message a user sent in a conversation, to be delivered to its channel(s).',
});

/** Delivery statuses per message and channel (seed 004's `message_status_updates`). Key: conversation id. */
export const chatMessageStatus = defineTopic({
  name: 'chat.message.status.1',
  schema: messageStatusUpdateSchema,
  description: 'A message reached SENT, DELIVERED, READ or FAILED on one channel.',
});
