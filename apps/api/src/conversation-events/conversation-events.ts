import { DELIVERY_CHANNELS, MESSAGE_STATUSES } from '@fleet/contracts';
import { z } from 'zod';

/** The Redis pub/sub channel of one conversation's live events; every api replica subscribes. */
export const conversationChannel = (conversationId: string): string => `chat:conversation:${conversationId}`;
/** Pattern matching every conversation channel (one PSUBSCRIBE per replica). */
export const CONVERSATION_CHANNEL_PATTERN = 'chat:conversation:*';

/** What a WebSocket subscriber receives when a message's status changed on a channel. */
export const messageStatusChangedSchema = z.object({
  type: z.literal('message.status'),
  conversationId: z.uuid(),
  messageId: z.uuid(),
  channel: z.enum(DELIVERY_CHANNELS),
  /** The channel's new status. */
  status: z.enum(MESSAGE_STATUSES),
  reason: z.string().nullable(),
  channelMessageId: z.string().nullable(),
  /** The message's overall status after the change. */
  messageStatus: z.enum(MESSAGE_STATUSES),
  occurredAt: z.string(),
});
export type MessageStatusChanged = z.infer<typeof messageStatusChangedSchema>;
