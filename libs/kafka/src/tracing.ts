import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { type IHeaders } from 'kafkajs';

const TRACER = '@fleet/kafka';

const headerSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const headerGetter: TextMapGetter<IHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const raw = carrier[key];
    const first = Array.isArray(raw) ? raw[0] : raw;
    return first === undefined ? undefined : first.toString();
  },
};

/** Runs `send` inside a PRODUCER span and returns the headers carrying its context. */
export async function withProducerSpan<T>(
  topic: string,
  attributes: Record<string, string | number>,
  send: (traceHeaders: Record<string, string>) => Promise<T>,
): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(
    `${topic} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic, ...attributes },
    },
    async (span) => {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier, headerSetter);
      try {
        return await send(carrier);
      } catch (error) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** The context a producer injected into `headers` (or the active one when there is none). */
export function contextFromHeaders(headers: IHeaders): Context {
  return propagation.extract(context.active(), headers, headerGetter);
}

/** Runs `work` inside a CONSUMER span that is a child of the producer's span. */
export function withConsumerSpan<T>(
  topic: string,
  headers: IHeaders,
  attributes: Record<string, string | number>,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(
    `${topic} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic, ...attributes },
    },
    contextFromHeaders(headers),
    async (span) => {
      try {
        return await work(span);
      } finally {
        span.end();
      }
    },
  );
}

export function recordFailure(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : new Error(String(error)));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
