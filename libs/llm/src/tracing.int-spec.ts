import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { startTracing } from '@fleet/observability';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { LlmClient } from './index';
import { FakeLlmServer } from './testing';

const OTLP = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';
const JAEGER = process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686';

interface JaegerSpan {
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
}

const tagOf = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;

describe('LLM calls against a real Jaeger', () => {
  test("each request to the endpoint is a CLIENT span in the caller's trace; the one answered 503 is an error span", async () => {
    const tracing = startTracing({ serviceName: `llm-int-${randomUUID().slice(0, 8)}`, otlpEndpoint: OTLP });
    const server = await FakeLlmServer.start({ models: ['fake-model'], tokensPerSecond: 4_000 });
    const quiet = () => undefined;
    const client = new LlmClient({
      primary: { url: server.url, model: 'fake-model' },
      registry: new Registry(),
      logger: { info: quiet, warn: quiet },
      requestTimeoutMs: 5_000,
      unavailableRetries: 1,
      unavailableRetryDelayMs: 10,
    });
    try {
      server.failNext(1, 503);
      const traceId = await trace.getTracer('int-test').startActiveSpan('job', async (span) => {
        await client.completeJson({
          messages: [{ role: 'user', content: 'Rate this.' }],
          schema: z.object({ score: z.number() }),
          schemaName: 'rating',
        });
        span.end();
        return span.spanContext().traceId;
      });
      await tracing.forceFlush();

      let spans: JaegerSpan[] = [];
      for (let i = 0; i < 60 && spans.length < 3; i++) {
        const response = await fetch(`${JAEGER}/api/traces/${traceId}`);
        if (response.ok)
          spans = ((await response.json()) as { data: { spans: JaegerSpan[] }[] }).data[0]!.spans;
        if (spans.length < 3) await sleep(250);
      }
      const job = spans.find((s) => s.operationName === 'job');
      const calls = spans.filter((s) => s.operationName === 'chat fake-model');
      assert.ok(job, 'the caller span is in Jaeger');
      assert.equal(calls.length, 2, 'a span per request: the failed one and its retry');
      for (const call of calls) {
        assert.ok(
          call.references.some((r) => r.refType === 'CHILD_OF' && r.spanID === job.spanID),
          'a child of the caller',
        );
        assert.equal(tagOf(call, 'span.kind'), 'client');
        assert.equal(tagOf(call, 'gen_ai.request.model'), 'fake-model');
      }
      const failed = calls.filter((s) => tagOf(s, 'otel.status_code') === 'ERROR');
      assert.equal(failed.length, 1, 'one error span');
      assert.equal(tagOf(failed[0]!, 'http.response.status_code'), 503);
      assert.equal(tagOf(failed[0]!, 'error.type'), 'server_error');
    } finally {
      client.shutdown();
      await server.stop();
      await tracing.shutdown();
    }
  });
});
