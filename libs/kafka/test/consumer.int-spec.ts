import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { trace } from '@opentelemetry/api';
import { dlqTopicOf, FleetHeaders } from '@fleet/contracts';
import { startTracing, type TracingHandle } from '@fleet/observability';
import {
  FleetConsumer,
  NonRetriableError,
  RetriableError,
  subscribe,
  type MessageContext,
  type SubscribeOptions,
} from '../src';
import { collectMessages, uniqueGroupId, waitFor } from '../src/testing';
import { harness, metricValue, type Harness, type Item } from './harness';

const JAEGER = process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686';
const OTLP = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';
const SERVICE = `kafka-runtime-test-${randomUUID().slice(0, 8)}`;

let tracing: TracingHandle;
before(() => {
  tracing = startTracing({ serviceName: SERVICE, otlpEndpoint: OTLP });
});
after(async () => {
  await tracing.shutdown();
});

function consumerFor(
  h: Harness,
  handler: (value: Item, ctx: MessageContext) => Promise<void>,
  extra = {},
  subscribeOptions: SubscribeOptions<Item> = {},
) {
  return new FleetConsumer(h.kafka, {
    groupId: uniqueGroupId('c'),
    producer: h.producer,
    registry: h.registry,
    logger: h.logger,
    retry: { maxAttempts: 3, initialBackoffMs: 200, backoffMultiplier: 2 },
    heartbeatIntervalMs: 1_000,
    subscriptions: [subscribe(h.topic, handler, subscribeOptions)],
    onFatalError: (error) => assert.fail(`unexpected fatal error: ${String(error)}`),
    ...extra,
  });
}

describe('kafka runtime against a real broker', () => {
  test('(a) a round trip keeps the trace: the consumer span is a child of the producer span', async () => {
    const h = await harness('trace');
    const seen: MessageContext[] = [];
    const consumer = consumerFor(h, async (_value, ctx) => void seen.push(ctx));
    try {
      await consumer.start();
      await h.producer.send(h.topic, [{ key: 'k1', value: { id: 'a', n: 1 }, eventId: 'evt-a' }]);
      await waitFor('the message to be handled', () => seen.length === 1);
      assert.equal(seen[0]?.eventId, 'evt-a');
      const traceparent = seen[0]?.headers.traceparent;
      assert.match(traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      const traceId = traceparent!.split('-')[1]!;
      await tracing.forceFlush();

      type JaegerSpan = {
        spanID: string;
        operationName: string;
        references: { refType: string; spanID: string }[];
      };
      const spans = await waitFor(
        'both spans in Jaeger',
        async () => {
          const res = await fetch(`${JAEGER}/api/traces/${traceId}`);
          if (!res.ok) return undefined;
          const body = (await res.json()) as { data: { spans: JaegerSpan[] }[] };
          const all = body.data[0]?.spans ?? [];
          return all.length >= 2 ? all : undefined;
        },
        30_000,
      );
      const producerSpan = spans.find((s) => s.operationName === `${h.topic.name} publish`);
      const consumerSpan = spans.find((s) => s.operationName === `${h.topic.name} process`);
      assert.ok(producerSpan, 'producer span is in the trace');
      assert.ok(consumerSpan, 'consumer span is in the same trace');
      assert.ok(
        consumerSpan.references.some((r) => r.refType === 'CHILD_OF' && r.spanID === producerSpan.spanID),
        'consumer span is a child of the producer span',
      );
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('(b) invalid JSON, then schema-invalid JSON → both in the DLQ with metadata, and the next message flows', async () => {
    const h = await harness('poison');
    const handled: Item[] = [];
    const consumer = consumerFor(h, async (value) => void handled.push(value));
    try {
      await h.producer.sendRaw(h.topic.name, [
        { key: 'k', value: '{not json', headers: { [FleetHeaders.eventId]: 'e1', custom: 'kept' } },
        {
          key: 'k',
          value: JSON.stringify({ id: 'x', n: 'not-a-number' }),
          headers: { [FleetHeaders.eventId]: 'e2' },
        },
        { key: 'k', value: JSON.stringify({ id: 'good', n: 3 }), headers: {} },
      ]);
      const before = Date.now();
      await consumer.start();
      await waitFor('the valid message to be handled', () => handled.length === 1);
      assert.deepEqual(handled, [{ id: 'good', n: 3 }]);

      const dlq = await collectMessages(h.kafka, dlqTopicOf(h.topic.name), { count: 2 });
      assert.equal(dlq.length, 2);
      const [first, second] = dlq.sort(
        (a, b) =>
          Number(a.headers[FleetHeaders.originalOffset]) - Number(b.headers[FleetHeaders.originalOffset]),
      );
      assert.equal(first!.value?.toString(), '{not json', 'original bytes kept');
      assert.equal(first!.key, 'k');
      assert.equal(first!.headers.custom, 'kept', 'original headers kept');
      assert.equal(first!.headers[FleetHeaders.eventId], 'e1');
      assert.equal(first!.headers[FleetHeaders.dlqReason], 'MALFORMED_JSON');
      assert.equal(second!.headers[FleetHeaders.dlqReason], 'SCHEMA_INVALID');
      assert.match(second!.headers[FleetHeaders.dlqErrorMessage] ?? '', /n: /);
      for (const [i, record] of [first!, second!].entries()) {
        assert.equal(record.headers[FleetHeaders.originalTopic], h.topic.name);
        assert.equal(record.headers[FleetHeaders.originalPartition], '0');
        assert.equal(record.headers[FleetHeaders.originalOffset], String(i));
        assert.equal(record.headers[FleetHeaders.dlqConsumerGroup], consumer.groupId);
        assert.equal(record.headers[FleetHeaders.dlqAttempts], '1');
        assert.ok(record.headers[FleetHeaders.dlqErrorCode]);
        assert.ok(Date.parse(record.headers[FleetHeaders.firstFailureAt] ?? '') >= before - 1_000);
      }
      assert.equal(
        await metricValue(h.registry, 'kafka_messages_dead_lettered_total', { reason: 'MALFORMED_JSON' }),
        1,
      );
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('a batch subscription gets runs of valid messages in order; a poison message in between goes to the DLQ alone', async () => {
    const h = await harness('batch');
    const runs: Array<Array<{ n: number; offset: string }>> = [];
    const single: number[] = [];
    const consumer = consumerFor(h, async (value) => void single.push(value.n), undefined, {
      maxBatchSize: 50,
      batch: async (items) => {
        runs.push(items.map((item) => ({ n: item.value.n, offset: item.context.offset })));
      },
    });
    try {
      const record = (n: number) => ({ key: 'k', value: JSON.stringify({ id: `i${n}`, n }), headers: {} });
      // Written before the start: the first fetch holds them all.
      await h.producer.sendRaw(h.topic.name, [
        ...Array.from({ length: 120 }, (_, n) => record(n)),
        { key: 'k', value: '{poison', headers: {} },
        ...Array.from({ length: 30 }, (_, n) => record(120 + n)),
      ]);
      await consumer.start();
      const handled = () => runs.flat().length + single.length;
      await waitFor('150 valid messages handled', () => handled() === 150);
      const order = [...runs.flat().map((r) => r.n), ...single].sort((a, b) => a - b);
      assert.deepEqual(
        order,
        Array.from({ length: 150 }, (_, n) => n),
        'each once',
      );
      assert.ok(
        runs.every((run) => run.length > 1 && run.length <= 50),
        `runs: ${runs.map((r) => r.length)}`,
      );
      assert.ok(runs.flat().length >= 100, 'most went through the batch handler');
      for (const run of runs) {
        assert.deepEqual(
          run.map((r) => r.n),
          [...run.map((r) => r.n)].sort((a, b) => a - b),
          'in offset order within a run',
        );
      }
      const dlq = await collectMessages(h.kafka, dlqTopicOf(h.topic.name), { count: 1 });
      assert.equal(dlq[0]!.value?.toString(), '{poison');
      assert.equal(dlq[0]!.headers[FleetHeaders.originalOffset], '120');
      assert.equal(await metricValue(h.registry, 'kafka_messages_processed_total'), 150);
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('when the batch handler throws, each message of the run gets its own outcome from the handler', async () => {
    const h = await harness('batch-fallback');
    let batchCalls = 0;
    const handled: number[] = [];
    const attempts = new Map<number, number[]>();
    const consumer = consumerFor(
      h,
      async (value, ctx) => {
        attempts.set(value.n, [...(attempts.get(value.n) ?? []), ctx.attempt]);
        if (value.n === 3) throw new NonRetriableError('three is refused');
        if (value.n === 5 && ctx.attempt === 1) throw new RetriableError('five, later');
        handled.push(value.n);
      },
      { retry: { maxAttempts: 2, initialBackoffMs: 200, backoffMultiplier: 2 } },
      {
        batch: async () => {
          batchCalls += 1;
          throw new RetriableError('the whole batch failed');
        },
      },
    );
    try {
      await h.producer.send(
        h.topic,
        Array.from({ length: 8 }, (_, n) => ({ key: 'k', value: { id: `i${n}`, n } })),
      );
      await consumer.start();
      await waitFor('seven handled', () => handled.length === 7);
      assert.ok(batchCalls >= 1);
      assert.deepEqual(
        [...handled].sort((a, b) => a - b),
        [0, 1, 2, 4, 5, 6, 7],
      );
      assert.deepEqual(attempts.get(5), [1, 2], 'retried through the retry topic');
      const dlq = await collectMessages(h.kafka, dlqTopicOf(h.topic.name), { count: 1 });
      assert.equal(dlq[0]!.headers[FleetHeaders.dlqReason], 'NON_RETRIABLE');
      assert.equal(JSON.parse(dlq[0]!.value!.toString()).n, 3);
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('keyConcurrency: keys of one partition run side by side, each key in offset order, offsets committed to the end', async () => {
    const h = await harness('by-key');
    const LIMIT = 4;
    const KEYS = 6;
    const PER_KEY = 10;
    const seen = new Map<string, number[]>();
    const busyKeys = new Set<string>();
    const overlaps: number[] = [];
    let active = 0;
    let peak = 0;
    const consumer = consumerFor(
      h,
      async (value, ctx) => {
        const key = ctx.key!;
        if (busyKeys.has(key)) overlaps.push(value.n);
        busyKeys.add(key);
        active++;
        peak = Math.max(peak, active);
        try {
          // key-0 is slow: its next message is due long before its current one is done.
          await sleep(key === 'key-0' ? 60 : 5);
          // One message fails once: it goes to .retry, and its key's next messages do not wait.
          if (value.n === 7 && ctx.attempt === 1) throw new RetriableError('seven, later');
          seen.set(key, [...(seen.get(key) ?? []), value.n]);
        } finally {
          active--;
          busyKeys.delete(key);
        }
      },
      undefined,
      { keyConcurrency: LIMIT },
    );
    try {
      // Written before the start, interleaved across keys: the first fetch holds them all.
      const records = Array.from({ length: KEYS * PER_KEY }, (_, n) => ({
        key: `key-${n % KEYS}`,
        value: { id: `i${n}`, n },
      }));
      await h.producer.send(h.topic, records);
      await consumer.start();
      const handled = () => [...seen.values()].flat().length;
      await waitFor('every message handled', () => handled() === KEYS * PER_KEY, 30_000);
      assert.ok(peak > 1 && peak <= LIMIT, `peak concurrency ${peak}`);
      assert.deepEqual(overlaps, [], 'never two messages of one key at once');
      for (const [key, ns] of seen) {
        const expected = records.filter((r) => r.key === key && r.value.n !== 7).map((r) => r.value.n);
        assert.deepEqual(
          ns.filter((n) => n !== 7),
          expected,
          `${key}: offset order (the retried 7 aside)`,
        );
      }
      assert.equal([...seen.values()].flat().filter((n) => n === 7).length, 1, 'the retried 7 once');
      const admin = h.kafka.admin();
      await admin.connect();
      try {
        await waitFor('offsets committed to the end', async () => {
          const [topic] = await admin.fetchOffsets({ groupId: consumer.groupId, topics: [h.topic.name] });
          return topic?.partitions[0]?.offset === String(KEYS * PER_KEY);
        });
      } finally {
        await admin.disconnect();
      }
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('keyConcurrency: messages waiting for their key hold no slot, so a busy key does not idle the others', async () => {
    const h = await harness('by-key-slots');
    const done: string[] = [];
    const consumer = consumerFor(
      h,
      async (value, ctx) => {
        await sleep(ctx.key === 'busy' ? 150 : 5);
        done.push(`${ctx.key}-${value.n}`);
      },
      undefined,
      { keyConcurrency: 2 },
    );
    try {
      // Five slow messages of one key first, then five quick ones of another, in one batch.
      await h.producer.send(h.topic, [
        ...Array.from({ length: 5 }, (_, n) => ({ key: 'busy', value: { id: `b${n}`, n } })),
        ...Array.from({ length: 5 }, (_, n) => ({ key: 'quick', value: { id: `q${n}`, n: 5 + n } })),
      ]);
      await consumer.start();
      await waitFor('every message handled', () => done.length === 10, 30_000);
      assert.ok(
        done.indexOf('quick-9') < done.indexOf('busy-1'),
        `the quick key finished while the busy one was on its first two: ${done.join(' ')}`,
      );
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('keyConcurrency is refused with a batch handler, or when not a positive integer', () => {
    const h = { name: 'a.b.1' } as never;
    assert.throws(() => subscribe(h, async () => {}, { keyConcurrency: 0 }), /positive integer/);
    assert.throws(() => subscribe(h, async () => {}, { keyConcurrency: 1.5 }), /positive integer/);
    assert.throws(
      () => subscribe(h, async () => {}, { keyConcurrency: 2, batch: async () => {} }),
      /cannot be combined/,
    );
  });

  test('(c) a handler failing retriably twice then succeeding → processed once, nothing in the DLQ', async () => {
    const h = await harness('flaky');
    let calls = 0;
    const attempts: number[] = [];
    let succeeded = 0;
    const consumer = consumerFor(h, async (_value, ctx) => {
      calls += 1;
      attempts.push(ctx.attempt);
      if (calls <= 2) throw new RetriableError('dependency unavailable');
      succeeded += 1;
    });
    try {
      await consumer.start();
      await h.producer.send(h.topic, [{ key: 'k', value: { id: 'f', n: 1 } }]);
      await waitFor('the third attempt to succeed', () => succeeded === 1);
      await sleep(1_500); // a late duplicate would show up here
      assert.equal(succeeded, 1);
      assert.deepEqual(attempts, [1, 2, 3]);
      const dlq = await collectMessages(h.kafka, dlqTopicOf(h.topic.name), { count: 1, timeoutMs: 3_000 });
      assert.equal(dlq.length, 0);
      assert.equal(await metricValue(h.registry, 'kafka_messages_retried_total'), 2);
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('a handler failing because its database is down waits in place: no attempt spent, no retry record, order kept', async () => {
    const h = await harness('outage');
    const seen: Array<{ n: number; attempt: number }> = [];
    let downUntil = 0;
    const consumer = consumerFor(h, async (value, ctx) => {
      if (Date.now() < downUntil) {
        // What pg answers while PostgreSQL restarts, wrapped as TypeORM wraps it.
        throw Object.assign(new Error('query failed'), {
          driverError: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
            code: 'ECONNREFUSED',
          }),
        });
      }
      seen.push({ n: value.n, attempt: ctx.attempt });
    });
    try {
      await consumer.start();
      downUntil = Date.now() + 3_000;
      await h.producer.send(h.topic, [
        { key: 'k', value: { id: 'o1', n: 1 } },
        { key: 'k', value: { id: 'o2', n: 2 } },
      ]);
      await waitFor('both handled once the database is back', () => seen.length === 2, 20_000);
      assert.ok(Date.now() >= downUntil);
      assert.deepEqual(seen, [
        { n: 1, attempt: 1 },
        { n: 2, attempt: 1 },
      ]);
      assert.equal(await metricValue(h.registry, 'kafka_messages_retried_total'), 0);
      assert.ok(
        (await metricValue(h.registry, 'kafka_messages_failed_total', { outcome: 'dependency-wait' }))! >= 2,
      );
      const dlq = await collectMessages(h.kafka, dlqTopicOf(h.topic.name), { count: 1, timeoutMs: 2_000 });
      assert.equal(dlq.length, 0);
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('a dependency down for longer than dependencyOutageWaitMs: the message then takes the normal retry path', async () => {
    const h = await harness('outage-long');
    const attempts: number[] = [];
    const consumer = consumerFor(
      h,
      async (_value, ctx) => {
        attempts.push(ctx.attempt);
        throw Object.assign(new Error('Connection terminated unexpectedly'), {});
      },
      { dependencyOutageWaitMs: 300 },
    );
    try {
      await consumer.start();
      await h.producer.send(h.topic, [{ key: 'k', value: { id: 'l', n: 1 } }]);
      const dlq = await collectMessages(h.kafka, dlqTopicOf(h.topic.name), { count: 1 });
      assert.equal(dlq.length, 1);
      assert.equal(dlq[0]!.headers[FleetHeaders.dlqReason], 'RETRIES_EXHAUSTED');
      assert.deepEqual([...new Set(attempts)], [1, 2, 3], 'each attempt waited, then counted');
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('(d) a handler always failing → DLQ after the configured attempts, attempt count recorded', async () => {
    const h = await harness('failing');
    const attempts: number[] = [];
    const consumer = consumerFor(h, async (_value, ctx) => {
      attempts.push(ctx.attempt);
      throw new Error('always broken');
    });
    try {
      await consumer.start();
      await h.producer.send(h.topic, [{ key: 'k', value: { id: 'd', n: 1 } }]);
      const dlq = await collectMessages(h.kafka, dlqTopicOf(h.topic.name), { count: 1 });
      assert.equal(dlq.length, 1);
      assert.deepEqual(attempts, [1, 2, 3]);
      const record = dlq[0]!;
      assert.equal(record.headers[FleetHeaders.dlqReason], 'RETRIES_EXHAUSTED');
      assert.equal(record.headers[FleetHeaders.dlqAttempts], '3');
      assert.equal(record.headers[FleetHeaders.dlqErrorMessage], 'always broken');
      assert.equal(record.headers[FleetHeaders.originalOffset], '0');
      assert.equal(record.headers[FleetHeaders.retryAttempt], undefined, 'retry bookkeeping stripped');
      assert.deepEqual(JSON.parse(record.value!.toString()), { id: 'd', n: 1 });
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('a message handled, retried and dead-lettered is logged with its key and event id, under its own trace', async () => {
    const h = await harness('logged');
    type Line = { msg: string | undefined; fields: Record<string, unknown>; traceId: string | undefined };
    const lines: Line[] = [];
    // What pino's mixin would read: the span active when the line is written.
    const at = (level: 'debug' | 'warn' | 'error') => (fields: object, msg?: string) => {
      lines.push({
        msg,
        fields: fields as Line['fields'],
        traceId: trace.getActiveSpan()?.spanContext().traceId,
      });
      h.logger[level](fields, msg);
    };
    const logger = { ...h.logger, debug: at('debug'), warn: at('warn'), error: at('error') };
    const traceIds = new Map<string, string>();
    const consumer = consumerFor(
      h,
      async (value, ctx) => {
        traceIds.set(value.id, ctx.headers.traceparent!.split('-')[1]!);
        if (value.id === 'broken') throw new Error('always broken');
      },
      { logger },
    );
    try {
      await consumer.start();
      // Two sends, two producer spans: two traces.
      await h.producer.send(h.topic, [{ key: 'k-ok', value: { id: 'ok', n: 1 }, eventId: 'evt-ok' }]);
      await h.producer.send(h.topic, [
        { key: 'k-broken', value: { id: 'broken', n: 2 }, eventId: 'evt-broken' },
      ]);
      await waitFor('the dead-lettering logged', () => lines.some((l) => l.msg === 'message dead-lettered'));
      const about = (msg: string) =>
        lines
          .filter((l) => l.msg === msg)
          .map((l) => ({
            key: l.fields.key,
            eventId: l.fields.eventId,
            attempt: l.fields.attempt,
            traceId: l.traceId,
          }));
      assert.deepEqual(about('message handled'), [
        { key: 'k-ok', eventId: 'evt-ok', attempt: 1, traceId: traceIds.get('ok') },
      ]);
      const broken = { key: 'k-broken', eventId: 'evt-broken', traceId: traceIds.get('broken') };
      assert.deepEqual(about('handler failed; retry scheduled'), [
        { ...broken, attempt: 1 },
        { ...broken, attempt: 2 },
      ]);
      assert.deepEqual(about('message dead-lettered'), [{ ...broken, attempt: 3 }]);
      assert.notEqual(traceIds.get('ok'), traceIds.get('broken'));
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('a NonRetriableError goes to the DLQ at once, without retries', async () => {
    const h = await harness('nonretriable');
    let calls = 0;
    const consumer = consumerFor(h, async () => {
      calls += 1;
      throw new NonRetriableError('unknown recipient', 'RECIPIENT_UNKNOWN');
    });
    try {
      await consumer.start();
      await h.producer.send(h.topic, [{ key: 'k', value: { id: 'n', n: 1 } }]);
      const dlq = await collectMessages(h.kafka, dlqTopicOf(h.topic.name), { count: 1 });
      assert.equal(dlq[0]?.headers[FleetHeaders.dlqReason], 'NON_RETRIABLE');
      assert.equal(dlq[0]?.headers[FleetHeaders.dlqErrorCode], 'RECIPIENT_UNKNOWN');
      assert.equal(calls, 1);
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('a retrying message does not hold back the next message of its partition', async () => {
    const h = await harness('nonblocking');
    const order: string[] = [];
    const consumer = consumerFor(
      h,
      async (value, ctx) => {
        if (value.id === 'slow' && ctx.attempt === 1) throw new RetriableError('later');
        order.push(value.id);
      },
      { retry: { maxAttempts: 3, initialBackoffMs: 3_000 } },
    );
    try {
      await consumer.start();
      await h.producer.send(h.topic, [
        { key: 'k', value: { id: 'slow', n: 1 } },
        { key: 'k', value: { id: 'next', n: 2 } },
      ]);
      await waitFor('both messages', () => order.length === 2, 15_000);
      assert.deepEqual(order, ['next', 'slow'], 'only the failed message is reordered');
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('(e) a handler taking twice the session timeout → no rebalance, processed once', async () => {
    const h = await harness('long');
    let done = 0;
    const sessionTimeoutMs = 6_000; // the broker's minimum (group.min.session.timeout.ms)
    const consumer = consumerFor(
      h,
      async () => {
        await sleep(2 * sessionTimeoutMs);
        done += 1;
      },
      { sessionTimeoutMs, heartbeatIntervalMs: 1_000 },
    );
    try {
      await consumer.start();
      const joinsAtStart = await metricValue(h.registry, 'kafka_consumer_group_joins_total', {
        group: consumer.groupId,
      });
      await h.producer.send(h.topic, [{ key: 'k', value: { id: 'long', n: 1 } }]);
      await waitFor('the long handler to finish', () => done === 1, 30_000);
      await sleep(3_000);
      assert.equal(done, 1);
      assert.equal(joinsAtStart, 1);
      assert.equal(
        await metricValue(h.registry, 'kafka_consumer_group_joins_total', { group: consumer.groupId }),
        1,
        'no rejoin: the member was never evicted',
      );
      assert.equal(await metricValue(h.registry, 'kafka_messages_processed_total'), 1);
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('keyConcurrency: a batch taking twice the session timeout, each message short → no rebalance, each processed once', async () => {
    const h = await harness('long-by-key');
    const sessionTimeoutMs = 6_000; // the broker's minimum (group.min.session.timeout.ms)
    const seen: number[] = [];
    const consumer = consumerFor(
      h,
      async (value) => {
        await sleep(400); // never long enough for a message's own heartbeat timer to fire
        seen.push(value.n);
      },
      { sessionTimeoutMs, heartbeatIntervalMs: 1_000 },
      { keyConcurrency: 2 },
    );
    try {
      // One key: one at a time, 30 × 400 ms = 12 s in one fetched batch.
      await h.producer.send(
        h.topic,
        Array.from({ length: 30 }, (_, n) => ({ key: 'k', value: { id: `i${n}`, n } })),
      );
      await consumer.start();
      await waitFor('every message handled', () => seen.length === 30, 60_000);
      await sleep(2_000);
      assert.deepEqual(
        seen,
        Array.from({ length: 30 }, (_, n) => n),
      );
      assert.equal(
        await metricValue(h.registry, 'kafka_consumer_group_joins_total', { group: consumer.groupId }),
        1,
        'no rejoin: the member was never evicted',
      );
    } finally {
      await consumer.stop();
      await h.close();
    }
  });
});
