import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * `chat_send_message(…)`: accepting a message in one round trip instead of eight (BEGIN, lock the
 * conversation, look up the idempotency key, count, insert the message, its deliveries and its
 * outbox event, COMMIT). The function runs as one statement, so all of it commits or none does.
 *
 * What stays in the api: the conversation's participants and channel (immutable; read once and
 * cached), the text limit, and the outbox row itself (payload validated against the topic's schema
 * and headers with the trace context, by `prepareOutboxRow`); the function writes that row as given.
 *
 * Outcomes (one row):
 * - `not_found`: no such conversation;
 * - `existing`: the sender already used this key: the stored message (the caller compares its
 *   `request_hash`: the same request is a replay, another is refused);
 * - `race`: a concurrent request with the same sender and key (on another conversation, so not
 *   serialized by our row lock) inserted first: nothing was written, the caller asks again and
 *   gets `existing`;
 * - `created`: the message (seq = the conversation's next), its deliveries and its event.
 */
export class SendMessageFunction1764800000000 implements MigrationInterface {
  name = 'SendMessageFunction1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION chat_send_message(
        p_conversation_id uuid, p_sender_id text, p_idempotency_key text, p_request_hash text,
        p_text text, p_message_id uuid, p_created_at timestamptz, p_channels text[],
        p_event_id uuid, p_aggregate_type text, p_aggregate_key text, p_event_type text, p_topic text,
        p_payload jsonb, p_headers jsonb)
      RETURNS TABLE (outcome text, id uuid, conversation_id uuid, request_hash text, status text,
                     created_at timestamptz)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_count bigint;
        v_row record;
      BEGIN
        -- The row lock orders the conversation's messages: consecutive seq, outbox rows in that order.
        SELECT c.message_count INTO v_count FROM conversations c WHERE c.id = p_conversation_id FOR UPDATE;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::uuid, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;

        SELECT m.id, m.conversation_id, m.request_hash, m.status, m.created_at INTO v_row
          FROM messages m WHERE m.sender_id = p_sender_id AND m.idempotency_key = p_idempotency_key;
        IF FOUND THEN
          RETURN QUERY SELECT 'existing'::text, v_row.id, v_row.conversation_id, v_row.request_hash,
                              v_row.status, v_row.created_at;
          RETURN;
        END IF;

        INSERT INTO messages AS m (id, conversation_id, seq, sender_id, idempotency_key, request_hash, text,
                                   created_at, updated_at)
        VALUES (p_message_id, p_conversation_id, v_count + 1, p_sender_id, p_idempotency_key,
                p_request_hash, p_text, p_created_at, p_created_at)
        ON CONFLICT (sender_id, idempotency_key) DO NOTHING
        RETURNING m.id, m.conversation_id, m.request_hash, m.status, m.created_at INTO v_row;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'race'::text, NULL::uuid, NULL::uuid, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;

        UPDATE conversations c SET message_count = v_count + 1 WHERE c.id = p_conversation_id;
        INSERT INTO message_deliveries (message_id, channel) SELECT p_message_id, unnest(p_channels);
        INSERT INTO outbox_events (id, aggregate_type, aggregate_key, event_type, topic, payload, headers)
        VALUES (p_event_id, p_aggregate_type, p_aggregate_key, p_event_type, p_topic, p_payload, p_headers);
        RETURN QUERY SELECT 'created'::text, v_row.id, v_row.conversation_id, v_row.request_hash,
                            v_row.status, v_row.created_at;
      END
      $fn$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DROP FUNCTION chat_send_message(uuid, text, text, text, text, uuid, timestamptz, text[], uuid, text, text, text, text, jsonb, jsonb)`,
    );
  }
}
