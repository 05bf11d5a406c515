import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { waitFor } from '@fleet/kafka/testing';
import { makeMessage, RouterFixture } from './harness';

const JAEGER = process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686';
const OTLP = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';

interface JaegerSpan {
  spanID: string;
  operationName: string;
  references: Array<{ spanID: string }>;
  tags: Array<{ key: string; value: unknown }>;
}

describe('message-router tracing (real Kafka, PostgreSQL, Redis, Jaeger; fake channels)', () => {
  test('each channel call is a CLIENT span inside the consumer span of the producer’s trace, and the status event carries the trace on', async () => {
    const f = await RouterFixture.create();
    try {
      const router = await f.startRouter({ OTEL_ENABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: OTLP });
      const traceId = randomBytes(16).toString('hex');
      const producerSpan = randomBytes(8).toString('hex');
      const message = makeMessage({ channel: 'all' });
      await f.sendRaw(message.conversationId, JSON.stringify(message), {
        traceparent: `00-${traceId}-${producerSpan}-01`,
      });
      await waitFor('both statuses', async () => (await f.statuses(message.messageId)).length === 2);
      for (const headers of await f.statusHeaders(message.messageId)) {
        assert.equal(headers.traceparent?.split('-')[1], traceId, 'the status event continues the trace');
      }
      await router.stop(); // flushes spans

      const spans = await waitFor(
        'the router spans in Jaeger',
        async () => {
          const res = await fetch(`${JAEGER}/api/traces/${traceId}`);
          if (!res.ok) return undefined;
          const body = (await res.json()) as { data: Array<{ spans: JaegerSpan[] }> };
          const all = body.data[0]?.spans ?? [];
          return all.filter((s) => s.operationName.endsWith(' send')).length === 2 ? all : undefined;
        },
        30_000,
      );
      const consumer = spans.find((s) => s.operationName === `${f.input.name} process`);
      assert.ok(consumer, `consumer span among ${spans.map((s) => s.operationName).join(', ')}`);
      assert.equal(consumer.references[0]?.spanID, producerSpan, 'child of the producer span');
      for (const channel of ['whatsapp', 'instagram']) {
        const send = spans.find((s) => s.operationName === `${channel} send`);
        assert.ok(send, `${channel} send span`);
        assert.equal(send.references[0]?.spanID, consumer.spanID, `${channel} call inside the consumer span`);
        assert.equal(send.tags.find((t) => t.key === 'span.kind')?.value, 'client');
      }
    } finally {
      await f.close();
    }
  });
});
