/**
 * Test and tooling helpers: the shapes of Jaeger's query API answers (`GET /api/traces`,
 * `GET /api/traces/<id>`), which the tracing tests and tools/screenshot-jaeger.ts read spans from.
 */

export interface JaegerTag {
  key: string;
  value: unknown;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  /** Microseconds since the epoch. */
  startTime: number;
  /** `CHILD_OF` / `FOLLOWS_FROM` links to other spans; none on a root span. */
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  processID: string;
  tags: JaegerTag[];
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerTag[] }>;
}
