import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defineTopic, OUTBOX_PUBLISHED_CHANNEL, outboxPublishedNotificationSchema } from '@fleet/contracts';
import { provisionTopics } from '@fleet/kafka';
import { captureLogger, recordTopic, uniqueTopicName, waitFor } from '@fleet/kafka/testing';
import { enqueue } from '@fleet/outbox';
import { closeRedisClient, createRedisClient } from '@fleet/redis';
import { runAdmin } from '../src/admin-commands';
import {
  buildPoller,
  DATABASE_URL,
  inspect,
  itemSchema,
  PollerProcess,
  REDIS_URL,
  ROOT,
  setupPollerTest,
  writeEvent,
} from './harness';

const JAEGER = process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686';
const OTLP = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';

describe('outbox-poller app', () => {
  test('an event for a topic that does not exist backs off holding back its key, is parked (metric), and a replay publishes it', async () => {
    const t = await setupPollerTest('park', 3);
    // A topic nobody provisioned: the broker refuses it (auto-create is off).
    const missing = defineTopic({
      name: uniqueTopicName('missing'),
      schema: itemSchema,
      description: 'test',
      partitions: 1,
    });
    const good = await recordTopic(t.kafka, t.topic.name);
    const poller = await PollerProcess.start(t.db.schema, {
      OUTBOX_MAX_ATTEMPTS: '2',
      OUTBOX_BACKOFF_INITIAL_MS: '300',
      KAFKA_SEND_RETRIES: '1',
    });
    try {
      const bad = await t.db.dataSource.transaction((tx) =>
        enqueue(tx, missing, {
          aggregateType: 'item',
          aggregateKey: 'k',
          eventType: 'item.created',
          payload: { uid: 'bad', key: 'k', n: 0 },
        }),
      );
      const sameKey = await writeEvent(t.db.dataSource, t.topic, { uid: 'behind', key: 'k', n: 1 });
      const otherKey = await writeEvent(t.db.dataSource, t.topic, { uid: 'free', key: 'j', n: 0 });

      await good.until(
        'the other key flows at once',
        () => inspect(good.messages).byEventId.has(otherKey),
        30_000,
      );
      await waitFor('parked metric', async () => (await poller.metric('outbox_parked_events')) === 1, 60_000);
      await good.until(
        'the same key flows once its head row is parked',
        () => inspect(good.messages).byEventId.has(sameKey),
        30_000,
      );
      const [row] = await t.db.dataSource.query(
        `SELECT b.attempts, b.last_error, b.parked_at, s.published_at
           FROM outbox_events b, outbox_events s WHERE b.id = $1 AND s.id = $2`,
        [bad, sameKey],
      );
      assert.equal(row.attempts, 2);
      // Refused before any send: a kafkajs producer once asked for a missing topic fails every later
      // metadata refresh, for every topic (the fault campaign's F9 stalled the poller that way).
      assert.match(row.last_error, /topic .* does not exist on the cluster/);
      assert.ok(row.published_at >= row.parked_at, 'the later event of the key waited for the rejected one');
      assert.equal(await poller.metric('outbox_events_parked_total', { topic: missing.name }), 1);
      assert.ok((await poller.metric('outbox_publish_failures_total', { kind: 'rejected' }))! >= 2);

      const out: string[] = [];
      const env = { DATABASE_URL, DATABASE_SCHEMA: t.db.schema };
      assert.equal(await runAdmin(['parked'], env, (s) => void out.push(s)), 0);
      assert.equal(JSON.parse(out[0]).id, bad);
      assert.equal(await runAdmin(['replay', 'not-a-uuid'], env, (s) => void out.push(s)), 2);

      // The operator fixes the cause (provisions the topic), then replays.
      await provisionTopics(t.kafka, [missing]);
      const replayed = await recordTopic(t.kafka, missing.name);
      assert.equal(await runAdmin(['replay', bad], env, (s) => void out.push(s)), 0);
      await replayed.until('the replayed event on its topic', () => replayed.messages.length === 1, 30_000);
      assert.equal(replayed.messages[0].headers['x-event-id'], bad);
      await waitFor(
        'parked metric back to 0',
        async () => (await poller.metric('outbox_parked_events')) === 0,
        10_000,
      );
      await replayed.stop();
    } finally {
      await poller.stop();
      await good.stop();
      await t.close();
    }
  });

  test('every published event is announced on Redis pub/sub', async () => {
    const t = await setupPollerTest('notify', 1);
    const subscriber = createRedisClient({
      url: REDIS_URL,
      connectionName: 'test-subscriber',
      logger: captureLogger(),
    });
    const announced: string[] = [];
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== OUTBOX_PUBLISHED_CHANNEL) return;
      const note = outboxPublishedNotificationSchema.parse(JSON.parse(message));
      if (note.topic === t.topic.name) announced.push(note.eventId);
    });
    await subscriber.subscribe(OUTBOX_PUBLISHED_CHANNEL);
    const poller = await PollerProcess.start(t.db.schema);
    try {
      const ids: string[] = [];
      for (let n = 0; n < 10; n++)
        ids.push(await writeEvent(t.db.dataSource, t.topic, { uid: randomUUID(), key: 'k', n }));
      await waitFor('10 notifications', () => announced.length >= 10, 20_000);
      assert.deepEqual([...announced].sort(), [...ids].sort());
    } finally {
      await poller.stop();
      await closeRedisClient(subscriber);
      await t.close();
    }
  });

  test('the trace continues from the writer through the poller: its publish span is a child of the writer span', async () => {
    const t = await setupPollerTest('trace', 1);
    const recording = await recordTopic(t.kafka, t.topic.name);
    const poller = await PollerProcess.start(t.db.schema, {
      OTEL_ENABLED: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: OTLP,
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      const traceId = randomUUID().replaceAll('-', '');
      const writerSpan = randomUUID().replaceAll('-', '').slice(0, 16);
      const ctx = trace.setSpanContext(context.active(), {
        traceId,
        spanId: writerSpan,
        traceFlags: TraceFlags.SAMPLED,
      });
      const id = await context.with(ctx, () =>
        writeEvent(t.db.dataSource, t.topic, { uid: 'traced', key: 'k', n: 0 }),
      );
      await recording.until('the event', () => recording.messages.length === 1, 20_000);
      const [, recordTrace, recordSpan] = recording.messages[0].headers.traceparent.split('-');
      assert.equal(recordTrace, traceId, 'the record carries the writer trace');
      assert.notEqual(
        recordSpan,
        writerSpan,
        'the record is the child of the poller span, not of the writer',
      );
      await poller.stop(); // flushes spans
      const span = await waitFor(
        'the poller span in Jaeger',
        async () => {
          const res = await fetch(`${JAEGER}/api/traces/${traceId}`);
          if (!res.ok) return undefined;
          const body = (await res.json()) as {
            data: { spans: { spanID: string; operationName: string; references: { spanID: string }[] }[] }[];
          };
          return body.data[0]?.spans.find((s) => s.spanID === recordSpan);
        },
        20_000,
      );
      assert.equal(span.operationName, `${t.topic.name} publish`);
      assert.equal(span.references[0]?.spanID, writerSpan, 'child of the writer span');
      assert.equal(recording.messages[0].headers['x-event-id'], id);
    } finally {
      context.disable();
      propagation.disable();
      await poller.stop();
      await recording.stop();
      await t.close();
    }
  });

  test('a missing or invalid variable exits 1 naming it', async () => {
    buildPoller();
    const run = promisify(execFile);
    const failure = await run(process.execPath, ['dist/test/outbox-poller/main.js'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        SERVICE_NAME: 'outbox-poller',
        HEALTH_PORT: '0',
        KAFKA_BROKERS: 'x:1',
        REDIS_URL: 'redis://x',
        OUTBOX_BATCH_SIZE: 'lots',
      },
    }).then(
      () => assert.fail('should have exited non-zero'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failure.code, 1);
    assert.match(failure.stderr, /DATABASE_URL/);
    assert.match(failure.stderr, /OUTBOX_BATCH_SIZE/);
  });
});
