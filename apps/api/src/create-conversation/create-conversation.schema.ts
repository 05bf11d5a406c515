import { CHAT_CHANNELS, deliveryChannelsOf, recipientsSchema } from '@fleet/contracts';
import { z } from 'zod';
import { userIdSchema } from '../chat/chat.schemas';

export const MAX_PARTICIPANTS = 100;

/** `POST /v1/conversations` body. The caller is always a participant, listed or not. */
export const createConversationSchema = z
  .object({
    participants: z
      .array(userIdSchema)
      .max(MAX_PARTICIPANTS - 1)
      .default([]),
    channel: z.enum(CHAT_CHANNELS),
    recipients: recipientsSchema,
  })
  .strict()
  .superRefine((body, ctx) => {
    for (const channel of deliveryChannelsOf(body.channel)) {
      if (body.recipients[channel] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['recipients', channel],
          message: `required: channel "${body.channel}" delivers to ${channel}`,
        });
      }
    }
  });
export type CreateConversationInput = z.output<typeof createConversationSchema>;
