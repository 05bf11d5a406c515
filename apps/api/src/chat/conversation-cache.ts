import { type EntityManager } from '@fleet/db';
import { forbidden, notFound } from '../http/api.errors';
import { type ConversationRow } from './chat.views';

/** Conversations kept; past this the oldest entry goes first. */
const DEFAULT_CAPACITY = 10_000;

/**
 * The conversations the send path has looked up, by id. A conversation's channel, recipients and
 * participants never change after it is created (nothing updates them; only its message counter
 * moves, which this does not keep), so an entry never goes stale and every api replica may keep
 * its own. Only conversations that exist are kept.
 */
export class ConversationCache {
  private readonly entries = new Map<string, ConversationRow>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /**
   * The conversation if `userId` takes part in it: 404 when it does not exist, 403 when the user
   * is not a participant (as `conversationOf`).
   */
  async participantOf(
    manager: EntityManager,
    conversationId: string,
    userId: string,
  ): Promise<ConversationRow> {
    let row = this.entries.get(conversationId);
    if (!row) {
      const rows: ConversationRow[] = await manager.query(
        `SELECT id, channel, recipients, participants, created_by, created_at FROM conversations WHERE id = $1`,
        [conversationId],
      );
      row = rows[0];
      if (!row) throw notFound(`conversation ${conversationId} not found`);
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(conversationId, row);
    }
    if (!row.participants.includes(userId)) throw forbidden('you are not a participant of this conversation');
    return row;
  }
}
