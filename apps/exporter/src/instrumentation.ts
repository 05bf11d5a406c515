// First import of main.ts: OpenTelemetry must patch http… before anything requires them.
// Entry files may read process.env; the tracing-only entry keeps http unloaded until the SDK runs.
import { startTracing } from '@fleet/observability/tracing';

export const tracing = startTracing({
  serviceName: process.env.SERVICE_NAME ?? 'exporter',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  enabled: process.env.OTEL_ENABLED !== 'false',
});
