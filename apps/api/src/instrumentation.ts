// First import of main.ts: OpenTelemetry must patch http, pg… before anything requires them.
import { startTracing } from '@fleet/observability/tracing';

export const tracing = startTracing({
  serviceName: process.env.SERVICE_NAME ?? 'api',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  enabled: process.env.OTEL_ENABLED !== 'false',
});
