import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * Conversations, their messages and each message's delivery per channel. Unqualified names land
 * in the data source's schema (first on its `search_path`).
 */
export class CreateChat1764100000000 implements MigrationInterface {
  name = 'CreateChat1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE conversations (
        id            uuid        PRIMARY KEY,
        channel       text        NOT NULL CHECK (channel IN ('whatsapp', 'instagram', 'all')),
        recipients    jsonb       NOT NULL,
        participants  text[]      NOT NULL CHECK (cardinality(participants) > 0),
        created_by    text        NOT NULL,
        -- Bumped under the row lock by every message: the message's position in its conversation.
        message_count bigint      NOT NULL DEFAULT 0,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
    // "Conversations of user X" and the participant check use the array containment operator.
    await queryRunner.query(
      `CREATE INDEX conversations_participants ON conversations USING gin (participants)`,
    );
    await queryRunner.query(`
      CREATE TABLE messages (
        id              uuid        PRIMARY KEY,
        conversation_id uuid        NOT NULL REFERENCES conversations (id),
        seq             bigint      NOT NULL,
        sender_id       text        NOT NULL,
        idempotency_key text        NOT NULL,
        -- sha256 of what the request asked for: a replay with another body under the key is refused.
        request_hash    text        NOT NULL,
        text            text        NOT NULL,
        status          text        NOT NULL DEFAULT 'PENDING'
                        CHECK (status IN ('PENDING', 'SENT', 'DELIVERED', 'READ', 'FAILED')),
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT messages_idempotency UNIQUE (sender_id, idempotency_key),
        CONSTRAINT messages_conversation_seq UNIQUE (conversation_id, seq)
      )`);
    await queryRunner.query(`
      CREATE TABLE message_deliveries (
        message_id         uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        channel            text        NOT NULL CHECK (channel IN ('whatsapp', 'instagram')),
        status             text        NOT NULL DEFAULT 'PENDING'
                           CHECK (status IN ('PENDING', 'SENT', 'DELIVERED', 'READ', 'FAILED')),
        reason             text,
        channel_message_id text,
        occurred_at        timestamptz,
        updated_at         timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (message_id, channel)
      )`);
    // Instagram webhooks name a message only by the channel's id, which the router's SENT carried.
    await queryRunner.query(`
      CREATE INDEX message_deliveries_channel_message_id ON message_deliveries (channel, channel_message_id)
        WHERE channel_message_id IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE message_deliveries`);
    await queryRunner.query(`DROP TABLE messages`);
    await queryRunner.query(`DROP TABLE conversations`);
  }
}
