import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { MESSAGE_STATUSES, STATUS_UPDATES, type MessageStatus } from '@fleet/contracts';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { API_MIGRATIONS } from '../migrations';
import { advances, overallStatus } from './overall-status';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';

/**
 * The SQL function the status consumer calls must follow the rules of overall-status.ts exactly:
 * every combination of a message's channel statuses and an incoming update, checked against them.
 */
describe('chat_apply_status follows overall-status.ts', () => {
  let db: TestSchema;
  let conversationId: string;
  before(async () => {
    db = await createTestSchema({ url: DATABASE_URL, migrations: [...API_MIGRATIONS] });
    conversationId = randomUUID();
    await db.dataSource.query(
      `INSERT INTO conversations (id, channel, recipients, participants, created_by)
       VALUES ($1, 'all', '{}', ARRAY['alice'], 'alice')`,
      [conversationId],
    );
  });
  after(() => db.drop());

  test("every channel status × every update, redriven or not: forward only, FAILED final but for a redrive's SENT, overall status as the reference says", async () => {
    let seq = 0;
    let cases = 0;
    for (const whatsapp of MESSAGE_STATUSES) {
      for (const instagram of [...MESSAGE_STATUSES, undefined]) {
        for (const [update, redriveId] of STATUS_UPDATES.flatMap((u) => [
          [u, null] as const,
          [u, randomUUID()] as const,
        ])) {
          const channels = { whatsapp, ...(instagram ? { instagram } : {}) } as Record<string, MessageStatus>;
          const before = overallStatus(Object.values(channels));
          const messageId = randomUUID();
          seq++;
          await db.dataSource.query(
            `INSERT INTO messages (id, conversation_id, seq, sender_id, idempotency_key, request_hash, text, status)
             VALUES ($1, $2, $3, 'alice', $5, 'h', 't', $4)`,
            [messageId, conversationId, seq, before, messageId],
          );
          for (const [channel, status] of Object.entries(channels)) {
            await db.dataSource.query(
              `INSERT INTO message_deliveries (message_id, channel, status) VALUES ($1, $2, $3)`,
              [messageId, channel, status],
            );
          }
          const [row] = (await db.dataSource.query(
            `SELECT outcome, channel_message_id, message_status
               FROM chat_apply_status($1, $2, 'whatsapp', $3, $4, 'wamid.1', now(), $5)`,
            [messageId, conversationId, update, update === 'FAILED' ? 'rejected' : null, redriveId],
          )) as [{ outcome: string; channel_message_id: string | null; message_status: string | null }];
          const applies = advances(whatsapp, update, redriveId !== null);
          const expected = applies ? overallStatus(Object.values({ ...channels, whatsapp: update })) : before;
          const label = `whatsapp ${whatsapp}, instagram ${instagram ?? '-'}, update ${update}${redriveId ? ' (redrive)' : ''}`;
          assert.equal(row.outcome, applies ? 'applied' : 'stale', label);
          const [stored] = (await db.dataSource.query(
            `SELECT m.status, d.status AS delivery, d.reason, d.channel_message_id
               FROM messages m JOIN message_deliveries d ON d.message_id = m.id AND d.channel = 'whatsapp'
              WHERE m.id = $1`,
            [messageId],
          )) as [
            { status: string; delivery: string; reason: string | null; channel_message_id: string | null },
          ];
          assert.equal(stored.status, expected, `${label}: message status`);
          assert.equal(stored.delivery, applies ? update : whatsapp, `${label}: delivery status`);
          assert.equal(stored.channel_message_id, 'wamid.1', `${label}: the channel's id is kept either way`);
          if (applies) {
            assert.equal(row.message_status, expected, label);
            assert.equal(stored.reason, update === 'FAILED' ? 'rejected' : null, label);
          }
          cases++;
        }
      }
    }
    assert.equal(cases, 5 * 6 * 4 * 2);
  });

  test('an update for another conversation or an unknown channel is an unknown message, and changes nothing', async () => {
    const messageId = randomUUID();
    await db.dataSource.query(
      `INSERT INTO messages (id, conversation_id, seq, sender_id, idempotency_key, request_hash, text)
       VALUES ($1, $2, 100000, 'alice', $3, 'h', 't')`,
      [messageId, conversationId, messageId],
    );
    await db.dataSource.query(
      `INSERT INTO message_deliveries (message_id, channel) VALUES ($1, 'whatsapp')`,
      [messageId],
    );
    for (const [conversation, channel] of [
      [randomUUID(), 'whatsapp'],
      [conversationId, 'instagram'],
    ]) {
      const [row] = (await db.dataSource.query(
        `SELECT outcome FROM chat_apply_status($1, $2, $3, 'SENT', NULL, NULL, now(), NULL)`,
        [messageId, conversation, channel],
      )) as [{ outcome: string }];
      assert.equal(row.outcome, 'unknown_message');
    }
    const [stored] = (await db.dataSource.query(`SELECT status FROM messages WHERE id = $1`, [
      messageId,
    ])) as [{ status: string }];
    assert.equal(stored.status, 'PENDING');
  });
});
