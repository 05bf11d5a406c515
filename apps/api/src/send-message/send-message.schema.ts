import { CHANNEL_TEXT_LIMITS } from '@fleet/contracts';
import { z } from 'zod';

/** No channel takes more; the conversation's own limit (its smallest channel's) is checked after. */
const LARGEST_LIMIT = Math.max(...Object.values(CHANNEL_TEXT_LIMITS));

/** `POST /v1/conversations/:id/messages` body. Length counts UTF-16 code units, as the channels do. */
export const sendMessageSchema = z
  .object({
    text: z
      .string()
      .min(1)
      .max(LARGEST_LIMIT)
      .refine((text) => text.trim().length > 0, 'must not be only whitespace')
      .meta({
        description: `1 to the smallest limit of the conversation's channels (${Object.entries(
          CHANNEL_TEXT_LIMITS,
        )
          .map(([channel, limit]) => `${channel} ${limit}`)
          .join(', ')}) UTF-16 code units.`,
      }),
  })
  .strict();
export type SendMessageInput = z.output<typeof sendMessageSchema>;

/** The `Idempotency-Key` header: 1–200 printable ASCII characters. */
export const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,200}$/;

export const acceptedMessageSchema = z.object({
  id: z.uuid(),
  status: z.enum(['PENDING', 'SENT', 'DELIVERED', 'READ', 'FAILED']).meta({
    description: 'PENDING for a new message; a replay shows the current status.',
  }),
  conversationId: z.uuid(),
  createdAt: z.iso.datetime(),
});
export type AcceptedMessage = z.infer<typeof acceptedMessageSchema>;
