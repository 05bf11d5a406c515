/**
 * The `chat_apply_status` function, in its two versions, for the migrations that create them
 * (each version is frozen once released: a migration must create today what it created then).
 *
 * - v1 (ApplyStatusFunction1764500000000): a channel's status moves only forward in the order
 *   PENDING, SENT, DELIVERED, READ, FAILED and never out of FAILED.
 * - v2 (ApplyStatusOnRedrive1765300000000): the same, plus one way out of FAILED: a SENT that
 *   carries `p_redrive_id` (the router called the channel again for an operator's redrive).
 *
 * The message's status is FAILED when every channel failed, else the least advanced of the others.
 */
export function chatApplyStatusSql(version: 1 | 2): string {
  const redrive = version === 2;
  const stale = redrive
    ? `(d_status = 'FAILED' AND NOT (p_status = 'SENT' AND p_redrive_id IS NOT NULL))
            OR (d_status <> 'FAILED' AND array_position(ranks, p_status) <= array_position(ranks, d_status))`
    : `d_status = 'FAILED' OR array_position(ranks, p_status) <= array_position(ranks, d_status)`;
  return `
      CREATE FUNCTION chat_apply_status(
        p_message_id uuid, p_conversation_id uuid, p_channel text, p_status text,
        p_reason text, p_channel_message_id text, p_occurred_at timestamptz${redrive ? ', p_redrive_id uuid' : ''})
      RETURNS TABLE (outcome text, channel_message_id text, message_status text)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        ranks CONSTANT text[] := ARRAY['PENDING', 'SENT', 'DELIVERED', 'READ', 'FAILED'];
        m_conversation uuid;
        m_status text;
        d_status text;
        d_channel_message_id text;
        kept_channel_message_id text;
        overall text;
      BEGIN
        SELECT m.conversation_id, m.status INTO m_conversation, m_status
          FROM messages m WHERE m.id = p_message_id FOR UPDATE;
        IF NOT FOUND OR m_conversation <> p_conversation_id THEN
          RETURN QUERY SELECT 'unknown_message'::text, NULL::text, NULL::text;
          RETURN;
        END IF;
        SELECT d.status, d.channel_message_id INTO d_status, d_channel_message_id
          FROM message_deliveries d WHERE d.message_id = p_message_id AND d.channel = p_channel;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'unknown_message'::text, NULL::text, NULL::text;
          RETURN;
        END IF;
        IF ${stale} THEN
          -- The channel's id may still be news (a webhook overtook the router's SENT): keep it.
          IF p_channel_message_id IS NOT NULL AND d_channel_message_id IS NULL THEN
            UPDATE message_deliveries d SET channel_message_id = p_channel_message_id
             WHERE d.message_id = p_message_id AND d.channel = p_channel;
          END IF;
          RETURN QUERY SELECT 'stale'::text, NULL::text, NULL::text;
          RETURN;
        END IF;
        UPDATE message_deliveries d
           SET status = p_status, reason = p_reason,
               channel_message_id = COALESCE(p_channel_message_id, d.channel_message_id),
               occurred_at = p_occurred_at, updated_at = now()
         WHERE d.message_id = p_message_id AND d.channel = p_channel
        RETURNING d.channel_message_id INTO kept_channel_message_id;
        SELECT CASE
                 WHEN count(*) FILTER (WHERE d.status <> 'FAILED') = 0 THEN 'FAILED'
                 ELSE (array_agg(d.status ORDER BY array_position(ranks, d.status))
                         FILTER (WHERE d.status <> 'FAILED'))[1]
               END
          INTO overall
          FROM message_deliveries d WHERE d.message_id = p_message_id;
        IF overall IS DISTINCT FROM m_status THEN
          UPDATE messages m SET status = overall, updated_at = now() WHERE m.id = p_message_id;
        END IF;
        RETURN QUERY SELECT 'applied'::text, kept_channel_message_id, overall;
      END
      $fn$`;
}
