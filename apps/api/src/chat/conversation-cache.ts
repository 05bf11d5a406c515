import { type EntityManager } from '@fleet/db';
import { asParticipant, conversationOf } from './chat.repository';
import { type ConversationRow } from './chat.views';

/** Conversations kept; past this the oldest entry goes first. */
const DEFAULT_CAPACITY = 10_000;

/**
 * The conversations the send path has looked up, by id. A conversation's channel, recipients and
 * participants never change after it is created (nothing updates them; only its message counter
 * moves, which this does not keep), so an entry never goes stale and every api replica may keep
 * its own. Only conversations that exist are kept (looked up by a participant).
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
    const kept = this.entries.get(conversationId);
    if (kept) return asParticipant(kept, conversationId, userId);
    // 404 and 403 as any other route; the counter moves with every message, so it is not kept.
    const { message_count: _counter, ...row } = await conversationOf(manager, conversationId, userId);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(conversationId, row);
    return row;
  }
}
