import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { ObservabilityError } from './observability.errors';
import { startTracing } from './tracing';

// Starting the SDK is process-wide; node's test runner gives each spec file its own process.
describe('startTracing', () => {
  test('when no endpoint is configured, it returns a disabled handle whose methods resolve', async () => {
    const handle = startTracing({ serviceName: 'svc' });
    assert.equal(handle.enabled, false);
    await handle.forceFlush();
    await handle.shutdown();
  });

  test('when disabled explicitly, it stays off even with an endpoint', () => {
    assert.equal(
      startTracing({ serviceName: 'svc', otlpEndpoint: 'http://127.0.0.1:4318', enabled: false }).enabled,
      false,
    );
  });

  test('when the endpoint is not an http(s) URL, it throws TRACING_INVALID_ENDPOINT', () => {
    for (const otlpEndpoint of ['127.0.0.1:4318', 'grpc://127.0.0.1:4317']) {
      assert.throws(
        () => startTracing({ serviceName: 'svc', otlpEndpoint }),
        (error: unknown) => error instanceof ObservabilityError && error.code === 'TRACING_INVALID_ENDPOINT',
      );
    }
  });

  test('when enabled, W3C trace context is propagated; a second start throws TRACING_ALREADY_STARTED', async () => {
    const handle = startTracing({ serviceName: 'svc', otlpEndpoint: 'http://127.0.0.1:4318/' });
    try {
      assert.equal(handle.enabled, true);
      const spanContext = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
      };
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpanContext(context.active(), spanContext), carrier);
      assert.equal(carrier.traceparent, `00-${spanContext.traceId}-${spanContext.spanId}-01`);

      assert.throws(
        () => startTracing({ serviceName: 'svc', otlpEndpoint: 'http://127.0.0.1:4318' }),
        (error: unknown) => error instanceof ObservabilityError && error.code === 'TRACING_ALREADY_STARTED',
      );
    } finally {
      // No span was recorded, so shutting down exports nothing.
      await handle.shutdown();
    }
  });
});
