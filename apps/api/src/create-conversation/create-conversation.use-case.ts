import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type DataSource } from '@fleet/db';
import { DATA_SOURCE } from '../app.tokens';
import { type ConversationRow, type ConversationView, toConversationView } from '../chat/chat.views';
import { badRequest } from '../http/api.errors';
import { MAX_PARTICIPANTS, type CreateConversationInput } from './create-conversation.schema';

/** Creates a conversation with the caller first among its participants (duplicates dropped). */
@Injectable()
export class CreateConversation {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async run(userId: string, input: CreateConversationInput): Promise<ConversationView> {
    const participants = [...new Set([userId, ...input.participants])];
    if (participants.length > MAX_PARTICIPANTS) {
      throw badRequest('VALIDATION_FAILED', `at most ${MAX_PARTICIPANTS} participants`);
    }
    const rows: ConversationRow[] = await this.dataSource.query(
      `INSERT INTO conversations (id, channel, recipients, participants, created_by)
       VALUES ($1, $2, $3, $4, $5)
       RETURNING id, channel, recipients, participants, created_by, created_at`,
      [randomUUID(), input.channel, JSON.stringify(input.recipients), participants, userId],
    );
    return toConversationView(rows[0]!);
  }
}
