import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import {
  defaultResource,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { ObservabilityError } from './observability.errors';

/** Options of {@link startTracing}. */
export interface TracingOptions {
  /** `service.name` of every span; the service as Jaeger lists it. */
  serviceName: string;
  /**
   * OTLP/HTTP base URL (`http://127.0.0.1:4318`); spans go to `<otlpEndpoint>/v1/traces`.
   * @defaultValue unset: tracing is disabled
   */
  otlpEndpoint?: string;
  /**
   * Master switch, so an endpoint shared through a config map can still be turned off per app.
   * @defaultValue true
   */
  enabled?: boolean;
  /**
   * Extra resource attributes (`service.version`, `deployment.environment.name`…).
   * @defaultValue none
   */
  resourceAttributes?: Readonly<Record<string, string>>;
}

/** What {@link startTracing} returns. */
export interface TracingHandle {
  /** Whether spans are being exported. */
  readonly enabled: boolean;
  /** Exports buffered spans now; for jobs that run to completion and for tests. */
  forceFlush(): Promise<void>;
  /** Flushes buffered spans and stops the SDK; call last during shutdown. */
  shutdown(): Promise<void>;
}

// Probes and scrapes hit these every few seconds; a span per hit would drown the real traffic.
const UNTRACED_PATHS = ['/health/', '/metrics'];

let started = false;

/**
 * Starts the OpenTelemetry Node SDK: OTLP/HTTP trace export, W3C trace-context and baggage
 * propagation, and the `http` and `pg` instrumentations.
 *
 * Instrumentations patch modules as they are `require`d, so this must run before `pg`, Nest or
 * anything that loads `http` does: call it from a module that the app's `main.ts` imports first
 * (see the README). That holds in an esbuild bundle too, as long as node_modules stay external:
 * the patched packages are then still loaded through `require`.
 *
 * Everything is configured from `options`; only the SDK's own kill switch `OTEL_SDK_DISABLED` and
 * span limits are still read from the environment by the SDK itself. Metrics and logs are not
 * exported over OTLP: metrics are scraped from `/metrics`, logs go to stdout.
 *
 * @throws {@link ObservabilityError} `TRACING_INVALID_ENDPOINT` for a non-http(s) endpoint;
 *   `TRACING_ALREADY_STARTED` on a second call, because the OpenTelemetry API keeps the first
 *   global provider and would silently ignore the second.
 */
export function startTracing(options: TracingOptions): TracingHandle {
  const { serviceName, otlpEndpoint, enabled = true, resourceAttributes = {} } = options;
  if (!enabled || otlpEndpoint === undefined)
    return { enabled: false, forceFlush: async () => {}, shutdown: async () => {} };

  const endpoint = URL.parse(otlpEndpoint);
  if (!endpoint || !['http:', 'https:'].includes(endpoint.protocol)) {
    throw new ObservabilityError(
      'TRACING_INVALID_ENDPOINT',
      `OTLP endpoint must be an absolute http(s) URL, got "${otlpEndpoint}"`,
    );
  }
  if (started) {
    throw new ObservabilityError('TRACING_ALREADY_STARTED', 'tracing was already started in this process');
  }
  started = true;

  const spanProcessor = new BatchSpanProcessor(
    new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }),
  );
  const sdk = new NodeSDK({
    resource: defaultResource().merge(
      resourceFromAttributes({ ...resourceAttributes, [ATTR_SERVICE_NAME]: serviceName }),
    ),
    // Not the env detector: OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES would override our options.
    resourceDetectors: [hostDetector, processDetector],
    spanProcessors: [spanProcessor],
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    // Empty lists, not omitted: omitted, the SDK would start OTLP metric and log exporters from env.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.some((path) => request.url?.startsWith(path)),
      }),
      // Without a parent span, pollers would emit a root trace per query every few hundred ms.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return { enabled: true, forceFlush: () => spanProcessor.forceFlush(), shutdown: () => sdk.shutdown() };
}
