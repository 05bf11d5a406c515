import { startTracing } from '@fleet/observability/tracing';

export const tracing = startTracing({
  serviceName: 'fleet-smoke',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
});
