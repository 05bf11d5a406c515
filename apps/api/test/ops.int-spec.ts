/**
 * The admin API for dead letters and event lives against the bundled api (a child process) on the
 * real servers: its dead-letter indexer follows the `.dlq` and `.retry` topics of a fresh topic
 * namespace, two consumer groups in this process play two services on one topic, and one of them
 * dead-letters a message until its cause is fixed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupInNamespace, inNamespace, uploadMergeRequested, type MergeRequest } from '@fleet/contracts';
import { type TestSchema } from '@fleet/db/testing';
import {
  createKafkaClient,
  FleetConsumer,
  FleetProducer,
  NonRetriableError,
  provisionTopics,
  subscribe,
  type KafkaClient,
} from '@fleet/kafka';
import { captureLogger, waitFor } from '@fleet/kafka/testing';
import { Registry } from 'prom-client';
import {
  BROKERS,
  call,
  createApiSchema,
  createKeys,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

const namespace = `ops${randomUUID().slice(0, 6)}`;
const topic = inNamespace(uploadMergeRequested, namespace);

describe('admin API: dead letters, redrive, event life', () => {
  let db: TestSchema;
  let keys: TestKeys;
  let api: ApiUnderTest;
  let admin: string;
  let user: string;
  let kafka: KafkaClient;
  let producer: FleetProducer;
  const consumers: FleetConsumer[] = [];
  const seen = { merge: [] as string[], audit: [] as string[] };
  let fixed = false;

  const group = async (name: string, handler: (v: MergeRequest, eventId: string) => Promise<void>) => {
    const consumer = new FleetConsumer(kafka, {
      groupId: groupInNamespace(name, namespace),
      producer,
      registry: new Registry(),
      logger: captureLogger(),
      retry: { maxAttempts: 2, initialBackoffMs: 100 },
      heartbeatIntervalMs: 1_000,
      subscriptions: [subscribe(topic, async (v, ctx) => handler(v as MergeRequest, ctx.eventId!))],
    });
    await consumer.start();
    consumers.push(consumer);
  };

  before(async () => {
    kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'ops-api-test',
      logger: captureLogger(),
    });
    // Before the api, whose indexer provisions every topic of the namespace too.
    await provisionTopics(kafka, [topic]);
    db = await createApiSchema();
    keys = await createKeys();
    api = await startApi(db.schema, keys, {
      KAFKA_TOPIC_NAMESPACE: namespace,
      JAEGER_UI_URL: 'http://127.0.0.1:16686',
    });
    admin = await tokenFor(keys, 'alice', { claims: { scope: 'fleet:admin' } });
    user = await tokenFor(keys, 'mallory', { claims: { scope: 'fleet:operator' } });
    producer = new FleetProducer(kafka, { registry: new Registry() });
    await producer.connect();
    await group('file-merge', async (v, eventId) => {
      if (!fixed && v.uploadId.startsWith('00000000'))
        throw new NonRetriableError('no such upload', 'UPLOAD_MISSING');
      seen.merge.push(eventId);
    });
    await group('upload-audit', async (_v, eventId) => void seen.audit.push(eventId));
  });

  after(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await producer?.disconnect();
    await api?.stop();
    await db?.drop();
  });

  const ids = { good: randomUUID(), poison: randomUUID() };
  let deadId: string;

  test('a dead letter shows up with its payload, key, headers and failure, filtered by group and reason', async () => {
    const requestedAt = new Date().toISOString();
    await producer.send(topic, [
      { key: 'u-1', value: { uploadId: randomUUID(), requestedAt }, eventId: ids.good },
      {
        key: 'u-2',
        value: { uploadId: '00000000-0000-4000-8000-000000000000', requestedAt },
        eventId: ids.poison,
      },
    ]);
    const list = await waitFor(
      'the dead letter listed',
      async () => {
        const answer = await call<{ items: Array<Record<string, unknown>>; total: number }>(
          api,
          'GET',
          `/v1/admin/dlq?topic=${topic.name}&group=${groupInNamespace('file-merge', namespace)}&reason=NON_RETRIABLE`,
          { token: admin },
        );
        return answer.status === 200 && answer.body.total === 1 ? answer.body : undefined;
      },
      30_000,
    );
    const [item] = list.items;
    assert.equal(item!.eventId, ids.poison);
    assert.equal(item!.errorCode, 'UPLOAD_MISSING');
    assert.equal(item!.key, 'u-2');
    deadId = item!.id as string;
    const detail = await call<Record<string, unknown>>(api, 'GET', `/v1/admin/dlq/${deadId}`, {
      token: admin,
    });
    assert.equal(detail.status, 200);
    assert.equal((detail.body.payload as MergeRequest).uploadId, '00000000-0000-4000-8000-000000000000');
    assert.equal((detail.body.headers as Record<string, string>)['x-event-id'], ids.poison);
    assert.equal((detail.body.headers as Record<string, string>)['x-dlq-reason'], 'NON_RETRIABLE');
    const topics = await call<{ topics: Array<{ topic: string; counts: Record<string, number> }> }>(
      api,
      'GET',
      '/v1/admin/dlq/topics',
      { token: admin },
    );
    assert.equal(topics.body.topics.find((t) => t.topic === topic.name)?.counts.DEAD, 1);
    // The other group handled both.
    await waitFor('the audit group to handle both', () => seen.audit.length === 2);
  });

  test('bad input: no admin scope → 403, no token → 401, a bad filter → 400, unknown ids → 404, nothing matching → 0', async () => {
    assert.equal((await call(api, 'GET', `/v1/admin/dlq?topic=${topic.name}`, { token: user })).status, 403);
    assert.equal((await call(api, 'GET', `/v1/admin/dlq?topic=${topic.name}`)).status, 401);
    assert.equal(
      (await call(api, 'POST', '/v1/admin/dlq/redrive', { token: user, body: { ids: [deadId] } })).status,
      403,
    );
    const noTopic = await call<{ error: { code: string; message: string } }>(api, 'GET', '/v1/admin/dlq', {
      token: admin,
    });
    assert.equal(noTopic.status, 400);
    assert.equal(noTopic.body.error.code, 'VALIDATION_FAILED');
    const both = await call(api, 'POST', '/v1/admin/dlq/redrive', {
      token: admin,
      body: { ids: [deadId], filter: { topic: topic.name } },
    });
    assert.equal(both.status, 400);
    assert.equal(
      (
        await call(api, 'POST', '/v1/admin/dlq/redrive', {
          token: admin,
          body: { filter: { topic: topic.name }, ratePerSecond: 0 },
        })
      ).status,
      400,
    );
    assert.equal((await call(api, 'GET', `/v1/admin/dlq/${randomUUID()}`, { token: admin })).status, 404);
    assert.equal((await call(api, 'GET', '/v1/admin/dlq/not-a-uuid', { token: admin })).status, 404);
    assert.equal((await call(api, 'GET', `/v1/admin/events/${randomUUID()}`, { token: admin })).status, 404);
    assert.equal(
      (await call(api, 'GET', `/v1/admin/dlq/redrives/${randomUUID()}`, { token: admin })).status,
      404,
    );
    const nothing = await call<{ matched: number; redriven: number; status: string }>(
      api,
      'POST',
      '/v1/admin/dlq/redrive',
      {
        token: admin,
        body: { filter: { topic: topic.name, key: 'no-such-key' } },
      },
    );
    assert.equal(nothing.status, 200);
    assert.deepEqual([nothing.body.matched, nothing.body.redriven, nothing.body.status], [0, 0, 'COMPLETED']);
    const discardNoReason = await call(api, 'POST', '/v1/admin/dlq/discard', {
      token: admin,
      body: { ids: [deadId] },
    });
    assert.equal(discardNoReason.status, 400);
  });

  test('dry run, redrive to the failing group only, once; a second redrive has no effect; the event life shows it all', async () => {
    const filter = { topic: topic.name, group: groupInNamespace('file-merge', namespace) };
    const dry = await call<{ matched: number; dryRun: boolean }>(api, 'POST', '/v1/admin/dlq/redrive', {
      token: admin,
      body: { filter, dryRun: true },
    });
    assert.deepEqual([dry.status, dry.body.dryRun, dry.body.matched], [200, true, 1]);
    fixed = true;
    const redrive = await call<{ id: string; status: string; matched: number; redriven: number }>(
      api,
      'POST',
      '/v1/admin/dlq/redrive',
      { token: admin, body: { filter } },
    );
    assert.equal(redrive.status, 200, redrive.text);
    assert.deepEqual([redrive.body.status, redrive.body.matched, redrive.body.redriven], ['COMPLETED', 1, 1]);
    await waitFor('file-merge to handle the redriven message', () => seen.merge.includes(ids.poison));
    const again = await call<{ matched: number; skipped: number }>(api, 'POST', '/v1/admin/dlq/redrive', {
      token: admin,
      body: { ids: [deadId] },
    });
    assert.deepEqual([again.body.matched, again.body.skipped], [0, 1]);
    await sleep(2_000);
    assert.deepEqual(seen.merge.filter((id) => id === ids.poison).length, 1, 'handled once');
    assert.equal(seen.audit.length, 2, 'the other group saw nothing new');
    const status = await call<{ status: string }>(api, 'GET', `/v1/admin/dlq/${deadId}`, { token: admin });
    assert.equal(status.body.status, 'REDRIVEN');

    const life = await waitFor('the event life to show the redrive handled', async () => {
      const answer = await call<{
        steps: Array<{ kind: string; group?: string }>;
        groups: Array<{ group: string; outcome: string }>;
        jaegerUrl: string | null;
      }>(api, 'GET', `/v1/admin/events/${ids.poison}`, { token: admin });
      return answer.status === 200 && answer.body.groups.every((g) => g.outcome === 'handled')
        ? answer.body
        : undefined;
    });
    const fm = groupInNamespace('file-merge', namespace);
    const kinds = life.steps.filter((s) => !s.group || s.group === fm).map((s) => s.kind);
    assert.deepEqual(kinds, ['kafka.written', 'dead-lettered', 'redriven', 'handled']);
    assert.equal(life.groups.length, 2);
    const audit = await call<{
      items: Array<{ action: string; actor: string; count: number; dryRun: boolean }>;
    }>(api, 'GET', '/v1/admin/audit?action=dlq.', { token: admin });
    assert.ok(
      audit.body.items.some(
        (a) => a.action === 'dlq.redrive' && a.actor === 'alice' && a.count === 1 && !a.dryRun,
      ),
    );
    assert.ok(audit.body.items.some((a) => a.dryRun && a.count === 1));
  });
});
