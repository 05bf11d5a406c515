import { z } from 'zod';
import { envelope } from '../chat/chat.schemas';
import { messageViewSchema } from '../chat/chat.views';

/** `GET /v1/conversations/:id/messages` query. */
export const listMessagesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    before: z
      .string()
      .regex(/^[1-9][0-9]{0,17}$/, 'expected a cursor from nextCursor')
      .optional()
      .meta({ description: 'nextCursor of the previous page: returns older messages.' }),
  })
  .strict();
export type ListMessagesQuery = z.output<typeof listMessagesQuerySchema>;

export const messagePageSchema = envelope({
  items: z.array(messageViewSchema).meta({ description: 'Newest first.' }),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `before` for the next (older) page; null at the end.' }),
});
