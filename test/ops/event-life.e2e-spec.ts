/**
 * An event's whole life, asked of the api (`GET /v1/admin/events/:id`) on the fleet as it ships:
 * the api (with its dead-letter indexer), the outbox poller and redis-backfill as child processes
 * on the real servers, and a consumer group in this process that fails an event until its cause
 * is fixed. The two ways an event enters Kafka in this fleet are both followed to the end:
 *
 * - outbox → poller → Kafka → retry → DLQ → redrive → handled;
 * - a producer whose broker is unreachable → Redis fallback → redis-backfill → Kafka → retry → DLQ
 *   → redrive → handled.
 *
 * (No single event takes both: the outbox poller never uses the fallback — while Kafka is away
 * its rows simply wait, ARCHITECTURE §2 — so "outbox → fallback" is two paths, not one.)
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, trace } from '@opentelemetry/api';
import { groupInNamespace, inNamespace, uploadMergeRequested, type MergeRequest } from '@fleet/contracts';
import { createKafkaClient, FleetConsumer, FleetProducer, subscribe } from '@fleet/kafka';
import { captureLogger, waitFor } from '@fleet/kafka/testing';
import { startTracing, type TracingHandle } from '@fleet/observability';
import { enqueue } from '@fleet/outbox';
import { closeRedisClient, createRedisClient, FallbackQueue, fallbackQueueKeys } from '@fleet/redis';
import { AppProcess } from '@fleet/service-kit/testing';
import { Registry } from 'prom-client';
import { call, startChatFleet, type ChatFleet } from '../chat/harness';

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Life {
  steps: Array<{ at: string | null; kind: string; group?: string; detail: string }>;
  groups: Array<{ group: string; outcome: string; attempts: number; redrives: number }>;
  outbox: { createdAt: string; publishedAt: string | null } | null;
  fallback: { queuedAt: string } | null;
  kafka: { partition: number; offset: string } | null;
  business: { type: string } | null;
  traceId: string | null;
  jaegerUrl: string | null;
}

describe('event life through the real fleet', () => {
  let fleet: ChatFleet;
  let backfill: AppProcess;
  let tracing: TracingHandle;
  let consumer: FleetConsumer;
  let producer: FleetProducer;
  let admin: string;
  let group: string;
  const failing = new Set<string>();
  const handled: string[] = [];
  const cleanup: Array<() => Promise<unknown>> = [];

  before(async () => {
    tracing = startTracing({
      serviceName: `ops-e2e-${randomUUID().slice(0, 6)}`,
      otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318',
    });
    fleet = await startChatFleet({ routers: 0, env: { JAEGER_UI_URL: 'http://127.0.0.1:16686' } });
    backfill = await AppProcess.start({
      app: 'redis-backfill',
      env: { ...fleet.env, FALLBACK_KEY_PREFIX: `${fleet.namespace}:`, FALLBACK_POLL_INTERVAL_MS: '200' },
    });
    await backfill.waitForHealth('/health/ready', 60_000);
    admin = await fleet.token('ops-admin', { scope: 'fleet:admin' });
    const kafka = createKafkaClient({ brokers: BROKERS, clientId: 'ops-e2e', logger: captureLogger() });
    producer = new FleetProducer(kafka, { registry: new Registry() });
    await producer.connect();
    group = groupInNamespace('merge-auditor', fleet.namespace);
    consumer = new FleetConsumer(kafka, {
      groupId: group,
      producer,
      registry: new Registry(),
      logger: captureLogger(),
      retry: { maxAttempts: 2, initialBackoffMs: 200 },
      heartbeatIntervalMs: 1_000,
      subscriptions: [
        subscribe(inNamespace(uploadMergeRequested, fleet.namespace), async (_v, ctx) => {
          if (failing.has(ctx.eventId!)) throw new Error('object store answered 503');
          handled.push(ctx.eventId!);
        }),
      ],
    });
    await consumer.start();
  });

  after(async () => {
    await consumer?.stop();
    await producer?.disconnect();
    for (const step of cleanup.reverse()) await step();
    await backfill?.stop();
    await fleet?.stop();
    await tracing?.shutdown();
  });

  /** Waits for the event's dead letter, fixes its cause, redrives it and waits until it is handled. */
  const deadLetterThenRedrive = async (eventId: string) => {
    const topic = inNamespace(uploadMergeRequested, fleet.namespace).name;
    const dead = await waitFor(
      `the dead letter of ${eventId}`,
      async () => {
        const page = await call<{ items: Array<{ id: string; reason: string; attempts: number }> }>(
          `${fleet.apiUrl}/v1/admin/dlq?topic=${topic}&eventId=${eventId}`,
          admin,
        );
        return page.body.items[0];
      },
      60_000,
    );
    assert.equal(dead.reason, 'RETRIES_EXHAUSTED');
    assert.equal(dead.attempts, 2);
    failing.delete(eventId); // the cause is fixed
    const redrive = await call<{ status: string; redriven: number }>(
      `${fleet.apiUrl}/v1/admin/dlq/redrive`,
      admin,
      {
        method: 'POST',
        body: { ids: [dead.id] },
      },
    );
    assert.deepEqual([redrive.status, redrive.body.status, redrive.body.redriven], [200, 'COMPLETED', 1]);
    await waitFor(`${eventId} handled`, () => handled.includes(eventId), 30_000);
    await sleep(1_000);
    assert.equal(handled.filter((id) => id === eventId).length, 1, 'handled once');
    return waitFor(
      `the life of ${eventId} to end handled`,
      async () => {
        const life = await call<Life>(`${fleet.apiUrl}/v1/admin/events/${eventId}`, admin);
        return life.status === 200 && life.body.groups.find((g) => g.group === group)?.outcome === 'handled'
          ? life.body
          : undefined;
      },
      30_000,
    );
  };

  const ofGroup = (life: Life) => life.steps.filter((s) => !s.group || s.group === group);

  test('outbox → poller → Kafka → retry → DLQ → redrive → handled, every step in order', async () => {
    const uploadId = randomUUID();
    const span = trace.getTracer('ops-e2e').startSpan('complete upload');
    const eventId = await context.with(trace.setSpan(context.active(), span), () =>
      fleet.db.dataSource.transaction((tx) =>
        enqueue(tx, inNamespace(uploadMergeRequested, fleet.namespace), {
          id: randomUUID(),
          aggregateType: 'upload',
          aggregateKey: uploadId,
          eventType: 'upload.merge.requested',
          payload: { uploadId, requestedAt: new Date().toISOString() } satisfies MergeRequest,
        }).then((id) => (failing.add(id), id)),
      ),
    );
    span.end();
    const life = await deadLetterThenRedrive(eventId);
    assert.deepEqual(
      ofGroup(life).map((s) => s.kind),
      [
        'outbox.created',
        'outbox.published',
        'kafka.written',
        'retry.scheduled',
        'dead-lettered',
        'redriven',
        'handled',
      ],
    );
    const times = ofGroup(life).flatMap((s) => (s.at ? [s.at] : []));
    assert.deepEqual(times, [...times].sort(), 'steps in time order');
    assert.ok(life.outbox?.publishedAt);
    assert.equal(life.fallback, null);
    assert.equal(life.traceId, span.spanContext().traceId, 'the trace of the request that wrote the row');
    assert.equal(life.jaegerUrl, `http://127.0.0.1:16686/trace/${life.traceId}`);
    assert.deepEqual(
      life.groups.find((g) => g.group === group),
      { group, outcome: 'handled', attempts: 3, redrives: 1 },
    );
  });

  test('producer with Kafka unreachable → Redis fallback → redis-backfill → Kafka → retry → DLQ → redrive → handled', async () => {
    const redis = createRedisClient({ url: REDIS_URL, connectionName: 'ops-e2e', logger: captureLogger() });
    cleanup.push(() => closeRedisClient(redis));
    const fallback = new FallbackQueue(redis, { keys: fallbackQueueKeys(`${fleet.namespace}:`) });
    // A producer that cannot reach its broker (never connected): its sends go to the fallback list.
    const offline = new FleetProducer(
      createKafkaClient({ brokers: BROKERS, clientId: 'ops-e2e-offline', logger: captureLogger() }),
      { registry: new Registry(), fallback },
    );
    const eventId = randomUUID();
    failing.add(eventId);
    const uploadId = randomUUID();
    const outcome = await offline.send(inNamespace(uploadMergeRequested, fleet.namespace), [
      { key: uploadId, value: { uploadId, requestedAt: new Date().toISOString() }, eventId },
    ]);
    assert.equal(outcome, 'queued');
    const life = await deadLetterThenRedrive(eventId);
    assert.deepEqual(
      ofGroup(life).map((s) => s.kind),
      ['fallback.queued', 'kafka.written', 'retry.scheduled', 'dead-lettered', 'redriven', 'handled'],
    );
    assert.equal(life.outbox, null);
    assert.ok(life.fallback?.queuedAt);
    assert.ok(life.kafka);
  });
});
