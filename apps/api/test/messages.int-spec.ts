import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { outgoingMessageSchema } from '@fleet/contracts';
import { type TestSchema } from '@fleet/db/testing';
import {
  call,
  counts,
  createApiSchema,
  createConversation,
  createKeys,
  recipients,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

interface ErrorBody {
  error: { code: string; message: string };
}
interface Accepted {
  id: string;
  status: string;
  conversationId: string;
  createdAt: string;
}

describe('api conversations and messages', () => {
  let db: TestSchema;
  let keys: TestKeys;
  let api: ApiUnderTest;
  let alice: string;
  let bob: string;
  let mallory: string;

  before(async () => {
    db = await createApiSchema();
    keys = await createKeys();
    // Tracing on (exporting to the local Jaeger), to see the request's trace reach the outbox row.
    api = await startApi(db.schema, keys, {
      OTEL_ENABLED: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318',
    });
    [alice, bob, mallory] = await Promise.all(['alice', 'bob', 'mallory'].map((u) => tokenFor(keys, u)));
  });
  after(async () => {
    await api?.stop();
    await db?.drop();
  });

  /** `key`: a fresh one by default, `null` for none. */
  const send = (conversationId: string, body: unknown, key: string | null = randomUUID(), token = alice) =>
    call<Accepted & ErrorBody>(api, 'POST', `/v1/conversations/${conversationId}/messages`, {
      token,
      body,
      headers: key === null ? {} : { 'idempotency-key': key },
    });

  describe('conversations', () => {
    test('create answers 201 with the caller added once; participants get it, others 403, unknown 404, malformed 400', async () => {
      const created = await call<{ id: string; participants: string[]; channel: string }>(
        api,
        'POST',
        '/v1/conversations',
        {
          token: alice,
          body: { participants: ['bob', 'alice', 'bob'], channel: 'all', recipients },
        },
      );
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body.participants, ['alice', 'bob']);
      const id = created.body.id;

      const asBob = await call<{ id: string }>(api, 'GET', `/v1/conversations/${id}`, { token: bob });
      assert.equal(asBob.status, 200);
      assert.equal(asBob.body.id, id);
      const asMallory = await call<ErrorBody>(api, 'GET', `/v1/conversations/${id}`, { token: mallory });
      assert.equal(asMallory.status, 403);
      assert.equal(asMallory.body.error.code, 'FORBIDDEN');
      const unknown = await call<ErrorBody>(api, 'GET', `/v1/conversations/${randomUUID()}`, {
        token: alice,
      });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'NOT_FOUND');
      const malformed = await call<ErrorBody>(api, 'GET', '/v1/conversations/not-a-uuid', { token: alice });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 'INVALID_ID');
    });

    test('when the recipients do not cover the channel, 400 naming the missing recipient', async () => {
      const answer = await call<ErrorBody & { error: { details: Array<{ path: string }> } }>(
        api,
        'POST',
        '/v1/conversations',
        {
          token: alice,
          body: { participants: [], channel: 'all', recipients: { whatsapp: recipients.whatsapp } },
        },
      );
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error.code, 'VALIDATION_FAILED');
      assert.ok(
        answer.body.error.details.some((d) => d.path === 'body.recipients.instagram'),
        answer.text,
      );
    });
  });

  describe('sending', () => {
    test('202 PENDING; the message, its deliveries and its outbox event are written in one transaction', async () => {
      const conversationId = await createConversation(api, alice, 'all', ['bob']);
      const answer = await send(conversationId, { text: 'hello 👋' });
      assert.equal(answer.status, 202, answer.text);
      assert.equal(answer.body.status, 'PENDING');
      assert.equal(answer.body.conversationId, conversationId);

      const [message] = await db.dataSource.query(
        `SELECT m.text, m.sender_id, m.seq, m.xmin::text AS tx, o.xmin::text AS outbox_tx, o.topic, o.aggregate_key, o.payload
           FROM messages m JOIN outbox_events o ON o.id = m.id WHERE m.id = $1`,
        [answer.body.id],
      );
      assert.ok(message, 'an outbox row with the message id exists');
      assert.equal(message.text, 'hello 👋');
      assert.equal(message.sender_id, 'alice');
      assert.equal(message.tx, message.outbox_tx, 'message and outbox row committed by the same transaction');
      assert.equal(message.topic, 'chat.message.outgoing.1');
      assert.equal(message.aggregate_key, conversationId, 'Kafka key: the conversation id');
      const payload = outgoingMessageSchema.parse(message.payload);
      assert.equal(payload.messageId, answer.body.id);
      assert.deepEqual(payload.recipients, recipients);
      assert.equal(payload.channel, 'all');
      const deliveries = await db.dataSource.query(
        `SELECT channel, status FROM message_deliveries WHERE message_id = $1 ORDER BY channel`,
        [answer.body.id],
      );
      assert.deepEqual(deliveries, [
        { channel: 'instagram', status: 'PENDING' },
        { channel: 'whatsapp', status: 'PENDING' },
      ]);
    });

    test("the request's trace context is stored in the outbox row, so the trace continues to Kafka", async () => {
      const conversationId = await createConversation(api, alice);
      const traceId = randomUUID().replace(/-/g, '');
      const answer = await call<Accepted>(api, 'POST', `/v1/conversations/${conversationId}/messages`, {
        token: alice,
        body: { text: 'traced' },
        headers: { 'idempotency-key': randomUUID(), traceparent: `00-${traceId}-b7ad6b7169203331-01` },
      });
      assert.equal(answer.status, 202);
      const [row] = await db.dataSource.query(`SELECT headers FROM outbox_events WHERE id = $1`, [
        answer.body.id,
      ]);
      assert.match(row.headers.traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    });

    test('messages of one conversation get consecutive positions, in outbox order, even sent concurrently', async () => {
      const conversationId = await createConversation(api, alice, 'whatsapp');
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => send(conversationId, { text: `m${i}` })),
      );
      assert.ok(answers.every((a) => a.status === 202));
      const rows: Array<{ seq: string; outbox_seq: string }> = await db.dataSource.query(
        `SELECT m.seq, o.seq AS outbox_seq FROM messages m JOIN outbox_events o ON o.id = m.id
          WHERE m.conversation_id = $1 ORDER BY m.seq`,
        [conversationId],
      );
      assert.deepEqual(
        rows.map((r) => Number(r.seq)),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      const outboxOrder = rows.map((r) => Number(r.outbox_seq));
      assert.deepEqual(
        outboxOrder,
        [...outboxOrder].sort((a, b) => a - b),
        'outbox rows in message order',
      );
    });

    test('the same Idempotency-Key again answers the same message and stores nothing new', async () => {
      const conversationId = await createConversation(api, alice);
      const key = `key-${randomUUID()}`;
      const first = await send(conversationId, { text: 'once' }, key);
      assert.equal(first.status, 202);
      const before = await counts(db);
      const again = await send(conversationId, { text: 'once' }, key);
      assert.equal(again.status, 202);
      assert.equal(again.body.id, first.body.id);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(await counts(db), before);
    });

    test('concurrent requests with one key store one message', async () => {
      const conversationId = await createConversation(api, alice);
      const key = `race-${randomUUID()}`;
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => send(conversationId, { text: 'race' }, key)),
      );
      assert.ok(answers.every((a) => a.status === 202));
      assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
      const [{ n }] = await db.dataSource.query(
        `SELECT count(*)::int AS n FROM outbox_events WHERE id = $1`,
        [answers[0]!.body.id],
      );
      assert.equal(n, 1);
    });

    test('one key raced on two conversations: one message, the other request 422, no gap in either sequence', async () => {
      const first = await createConversation(api, alice);
      const second = await createConversation(api, alice);
      for (let round = 0; round < 5; round++) {
        const key = `cross-${randomUUID()}`;
        const answers = await Promise.all([
          send(first, { text: 'to the first' }, key),
          send(second, { text: 'to the second' }, key),
        ]);
        assert.deepEqual(
          answers.map((a) => a.status).sort(),
          [202, 422],
          answers.map((a) => a.text).join(' | '),
        );
      }
      const rows: Array<{ conversation_id: string; seq: string; message_count: string }> =
        await db.dataSource.query(
          `SELECT m.conversation_id, m.seq, c.message_count FROM messages m
             JOIN conversations c ON c.id = m.conversation_id
            WHERE m.conversation_id IN ($1, $2) ORDER BY m.conversation_id, m.seq`,
          [first, second],
        );
      assert.equal(rows.length, 5);
      for (const id of [first, second]) {
        const mine = rows.filter((r) => r.conversation_id === id);
        assert.deepEqual(
          mine.map((r) => Number(r.seq)),
          mine.map((_, i) => i + 1),
          'consecutive positions: a lost race left no gap',
        );
        for (const r of mine) assert.equal(Number(r.message_count), mine.length);
      }
    });

    test('the same key with a different body answers 422 and stores nothing', async () => {
      const conversationId = await createConversation(api, alice);
      const key = `k-${randomUUID()}`;
      assert.equal((await send(conversationId, { text: 'first' }, key)).status, 202);
      const before = await counts(db);
      const other = await send(conversationId, { text: 'second' }, key);
      assert.equal(other.status, 422);
      assert.equal(other.body.error.code, 'IDEMPOTENCY_KEY_REUSED');
      assert.deepEqual(await counts(db), before);
    });

    test('a key is per sender: bob may use the key alice used', async () => {
      const conversationId = await createConversation(api, alice, 'all', ['bob']);
      const key = `shared-${randomUUID()}`;
      const a = await send(conversationId, { text: 'same' }, key, alice);
      const b = await send(conversationId, { text: 'same' }, key, bob);
      assert.equal(a.status, 202);
      assert.equal(b.status, 202);
      assert.notEqual(a.body.id, b.body.id);
    });

    test('a non-participant gets 403 and an unknown conversation 404; nothing stored', async () => {
      const conversationId = await createConversation(api, alice);
      const before = await counts(db);
      assert.equal((await send(conversationId, { text: 'hi' }, randomUUID(), mallory)).status, 403);
      assert.equal((await send(randomUUID(), { text: 'hi' })).status, 404);
      assert.deepEqual(await counts(db), before);
    });
  });

  describe('bad input: 400 with a reason, nothing stored, nothing published', () => {
    let whatsapp: string;
    let all: string;
    before(async () => {
      whatsapp = await createConversation(api, alice, 'whatsapp');
      all = await createConversation(api, alice, 'all');
    });

    const cases: Array<{
      name: string;
      code: string;
      run: () => Promise<{ status: number; body: ErrorBody }>;
    }> = [
      {
        name: 'no Idempotency-Key',
        code: 'IDEMPOTENCY_KEY_MISSING',
        run: () => send(whatsapp, { text: 'x' }, null),
      },
      {
        name: 'an Idempotency-Key over 200 characters',
        code: 'IDEMPOTENCY_KEY_INVALID',
        run: () => send(whatsapp, { text: 'x' }, 'k'.repeat(201)),
      },
      {
        name: 'an Idempotency-Key with a non-printable character',
        code: 'IDEMPOTENCY_KEY_INVALID',
        run: () => send(whatsapp, { text: 'x' }, 'tab\there'),
      },
      { name: 'a malformed conversation id', code: 'INVALID_ID', run: () => send('123', { text: 'x' }) },
      {
        name: 'an empty body',
        code: 'EMPTY_BODY',
        run: () =>
          call(api, 'POST', `/v1/conversations/${whatsapp}/messages`, {
            token: alice,
            body: '',
            headers: { 'idempotency-key': 'e1', 'content-type': 'application/json' },
          }),
      },
      {
        name: 'no body at all',
        code: 'EMPTY_BODY',
        run: () =>
          call(api, 'POST', `/v1/conversations/${whatsapp}/messages`, {
            token: alice,
            headers: { 'idempotency-key': 'e2' },
          }),
      },
      { name: 'invalid JSON', code: 'INVALID_JSON', run: () => send(whatsapp, '{"text": "unterminated') },
      {
        name: 'a body that is not JSON',
        code: 'UNSUPPORTED_MEDIA_TYPE',
        run: () =>
          call(api, 'POST', `/v1/conversations/${whatsapp}/messages`, {
            token: alice,
            body: 'text=hi',
            headers: { 'idempotency-key': 'e3', 'content-type': 'application/x-www-form-urlencoded' },
          }),
      },
      { name: 'a JSON array', code: 'VALIDATION_FAILED', run: () => send(whatsapp, '["hi"]') },
      { name: 'an empty text', code: 'VALIDATION_FAILED', run: () => send(whatsapp, { text: '' }) },
      {
        name: 'a whitespace-only text',
        code: 'VALIDATION_FAILED',
        run: () => send(whatsapp, { text: '  \n ' }),
      },
      {
        name: 'an unknown field',
        code: 'VALIDATION_FAILED',
        run: () => send(whatsapp, { text: 'x', extra: 1 }),
      },
      {
        name: 'a NUL character in the text',
        code: 'INVALID_STRING',
        run: () => send(whatsapp, '{"text":"a\\u0000b"}'),
      },
      {
        name: 'a lone high surrogate',
        code: 'INVALID_STRING',
        run: () => send(whatsapp, '{"text":"a\\ud800b"}'),
      },
      {
        name: 'a lone low surrogate',
        code: 'INVALID_STRING',
        run: () => send(whatsapp, '{"text":"\\udc00"}'),
      },
      {
        name: 'a NUL character in a key',
        code: 'INVALID_STRING',
        run: () => send(whatsapp, '{"te\\u0000xt":"a"}'),
      },
      {
        name: 'text over the WhatsApp limit (4097)',
        code: 'VALIDATION_FAILED',
        run: () => send(whatsapp, { text: 'a'.repeat(4097) }),
      },
      {
        name: "text over an `all` conversation's smallest limit (Instagram 1000)",
        code: 'TEXT_TOO_LONG',
        run: () => send(all, { text: 'a'.repeat(1001) }),
      },
    ];
    for (const c of cases) {
      test(`${c.name} → 400 ${c.code}`, async () => {
        const before = await counts(db);
        const answer = await c.run();
        assert.equal(
          answer.status,
          c.code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 400,
          JSON.stringify(answer.body),
        );
        assert.equal(answer.body.error.code, c.code);
        assert.ok(answer.body.error.message.length > 0);
        assert.deepEqual(await counts(db), before, 'nothing stored, nothing published');
      });
    }

    test('text at the limits is accepted: 4096 on WhatsApp, 1000 on `all`, counted in UTF-16 units', async () => {
      assert.equal((await send(whatsapp, { text: 'a'.repeat(4096) })).status, 202);
      assert.equal((await send(all, { text: '😀'.repeat(500) })).status, 202);
      assert.equal((await send(all, { text: '😀'.repeat(500) + 'a' })).status, 400);
    });
  });

  describe('reading', () => {
    test('list is newest first with cursor pagination; get shows per-channel status', async () => {
      const conversationId = await createConversation(api, alice, 'all', ['bob']);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await send(conversationId, { text: `n${i}` })).body.id);
      const page1 = await call<{ items: Array<{ id: string; text: string }>; nextCursor: string | null }>(
        api,
        'GET',
        `/v1/conversations/${conversationId}/messages?limit=2`,
        { token: bob },
      );
      assert.equal(page1.status, 200, page1.text);
      assert.deepEqual(
        page1.body.items.map((m) => m.text),
        ['n4', 'n3'],
      );
      assert.ok(page1.body.nextCursor);
      const page2 = await call<{ items: Array<{ text: string }>; nextCursor: string | null }>(
        api,
        'GET',
        `/v1/conversations/${conversationId}/messages?limit=2&before=${page1.body.nextCursor}`,
        { token: bob },
      );
      assert.deepEqual(
        page2.body.items.map((m) => m.text),
        ['n2', 'n1'],
      );
      const page3 = await call<{ items: Array<{ text: string }>; nextCursor: string | null }>(
        api,
        'GET',
        `/v1/conversations/${conversationId}/messages?limit=2&before=${page2.body.nextCursor}`,
        { token: bob },
      );
      assert.deepEqual(
        page3.body.items.map((m) => m.text),
        ['n0'],
      );
      assert.equal(page3.body.nextCursor, null);

      const bad = await call<ErrorBody>(api, 'GET', `/v1/conversations/${conversationId}/messages?limit=0`, {
        token: bob,
      });
      assert.equal(bad.status, 400);
      assert.equal(
        (await call(api, 'GET', `/v1/conversations/${conversationId}/messages`, { token: mallory })).status,
        403,
      );

      const one = await call<{
        id: string;
        status: string;
        deliveries: Array<{ channel: string; status: string }>;
      }>(api, 'GET', `/v1/conversations/${conversationId}/messages/${ids[0]}`, { token: alice });
      assert.equal(one.status, 200);
      assert.equal(one.body.status, 'PENDING');
      assert.deepEqual(
        one.body.deliveries.map((d) => [d.channel, d.status]),
        [
          ['instagram', 'PENDING'],
          ['whatsapp', 'PENDING'],
        ],
      );
      const missing = await call(api, 'GET', `/v1/conversations/${conversationId}/messages/${randomUUID()}`, {
        token: alice,
      });
      assert.equal(missing.status, 404);
    });
  });

  describe('http surface', () => {
    test('the OpenAPI document is served at /docs/json and lists every route', async () => {
      const doc = await call<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
        api,
        'GET',
        '/docs/json',
      );
      assert.equal(doc.status, 200);
      assert.match(doc.body.openapi, /^3\./);
      const routes = Object.entries(doc.body.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      );
      for (const route of [
        'POST /v1/conversations',
        'GET /v1/conversations/{id}',
        'POST /v1/conversations/{id}/messages',
        'GET /v1/conversations/{id}/messages',
        'GET /v1/conversations/{id}/messages/{messageId}',
        'GET /v1/webhooks/{channel}',
        'POST /v1/webhooks/{channel}',
      ]) {
        assert.ok(routes.includes(route), `${route} documented (have ${routes.join(', ')})`);
      }
      const send = doc.body.paths['/v1/conversations/{id}/messages']!.post as {
        requestBody: { content: Record<string, { schema: { properties: object } }> };
      };
      assert.ok(
        'text' in send.requestBody.content['application/json']!.schema.properties,
        'body schema generated from zod',
      );
      assert.equal((await call(api, 'GET', '/docs')).status, 200, 'Swagger UI served');
    });

    test('an unknown route answers 404 in the error format; metrics count requests by route template', async () => {
      const answer = await call<ErrorBody>(api, 'GET', '/v1/nope', { token: alice });
      assert.equal(answer.status, 404);
      assert.equal(answer.body.error.code, 'NOT_FOUND');
      assert.ok(
        (await api.process.metric('http_request_duration_seconds_count', {
          route: '/v1/conversations/:id/messages',
          status: '202',
        }))! > 0,
      );
      assert.ok((await api.process.metric('chat_messages_accepted_total'))! > 0);
    });
  });
});
