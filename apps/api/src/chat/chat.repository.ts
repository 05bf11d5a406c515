import { type EntityManager } from '@fleet/db';
import { forbidden, notFound } from '../http/api.errors';
import { type ConversationRow, type MessageRow } from './chat.views';

/**
 * A conversation the caller takes part in: 404 when it does not exist, 403 when the caller is not
 * a participant. `lock` takes the row lock (`FOR UPDATE`) that orders the conversation's messages.
 */
export async function conversationOf(
  manager: EntityManager,
  conversationId: string,
  userId: string,
  options: { lock?: boolean } = {},
): Promise<ConversationRow & { message_count: string }> {
  const rows: Array<ConversationRow & { message_count: string }> = await manager.query(
    `SELECT id, channel, recipients, participants, created_by, created_at, message_count
       FROM conversations WHERE id = $1 ${options.lock ? 'FOR UPDATE' : ''}`,
    [conversationId],
  );
  return asParticipant(rows[0], conversationId, userId);
}

/** `row` if it exists (else 404) and `userId` takes part in it (else 403). */
export function asParticipant<T extends ConversationRow>(
  row: T | undefined,
  conversationId: string,
  userId: string,
): T {
  if (!row) throw notFound(`conversation ${conversationId} not found`);
  if (!row.participants.includes(userId)) throw forbidden('you are not a participant of this conversation');
  return row;
}

/** The select list of a message with its deliveries, oldest channel name first. */
export const MESSAGE_COLUMNS = `
  m.id, m.conversation_id, m.seq, m.sender_id, m.text, m.status, m.created_at, m.updated_at,
  COALESCE((
    SELECT json_agg(json_build_object(
             'channel', d.channel, 'status', d.status, 'reason', d.reason,
             'channel_message_id', d.channel_message_id, 'updated_at', d.updated_at)
           ORDER BY d.channel)
      FROM message_deliveries d WHERE d.message_id = m.id), '[]'::json) AS deliveries`;

export async function messageById(
  manager: EntityManager,
  messageId: string,
): Promise<MessageRow | undefined> {
  const rows: MessageRow[] = await manager.query(
    `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1`,
    [messageId],
  );
  return rows[0];
}
