// First import of main.ts: OpenTelemetry must patch http and pg before anything requires them.
import { startTracing } from '@fleet/observability/tracing';

export const tracing = startTracing({
  serviceName: process.env.SERVICE_NAME ?? 'outbox-poller',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  enabled: process.env.OTEL_ENABLED !== 'false',
});
