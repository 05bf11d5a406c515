import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** `outcome` of `llm_request_duration_seconds`: one per HTTP request. */
export type RequestOutcome = 'success' | 'invalid_output' | 'unavailable' | 'rejected' | 'aborted';

/**
 * The client's metrics, created once per registry (several clients in one process share them).
 * `endpoint` is the role (`primary` | `fallback`), never the URL: low cardinality, no hostnames or
 * credentials in the metrics.
 */
export interface LlmMetrics {
  requestDuration: Histogram<'endpoint' | 'outcome'>;
  tokens: Counter<'endpoint' | 'direction'>;
  tokensPerSecond: Histogram<'endpoint'>;
  errors: Counter<'endpoint' | 'class'>;
  fallbacks: Counter<'reason'>;
  waiting: Gauge<'endpoint'>;
  inFlight: Gauge<'endpoint'>;
}

const cache = new WeakMap<Registry, LlmMetrics>();

export function llmMetrics(registry: Registry): LlmMetrics {
  const cached = cache.get(registry);
  if (cached) return cached;
  const registers = [registry];
  const metrics: LlmMetrics = {
    requestDuration: new Histogram({
      name: 'llm_request_duration_seconds',
      help: 'Duration of each HTTP request to an LLM endpoint (queueing excluded), by outcome.',
      labelNames: ['endpoint', 'outcome'],
      // A 7B model on one consumer GPU: from sub-second short answers to minutes with a model load.
      buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 90, 120, 180, 300],
      registers,
    }),
    tokens: new Counter({
      name: 'llm_tokens_total',
      help: 'Tokens reported by the endpoint (usage), by direction: prompt (in) or completion (out).',
      labelNames: ['endpoint', 'direction'],
      registers,
    }),
    tokensPerSecond: new Histogram({
      name: 'llm_tokens_per_second',
      help: 'Completion tokens per second of each answered request (end to end: prompt processing and model load included).',
      labelNames: ['endpoint'],
      buckets: [1, 2, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 80, 100, 150, 200],
      registers,
    }),
    errors: new Counter({
      name: 'llm_errors_total',
      help: 'Failed attempts by class: timeout, connection, server_error, rate_limited, bad_response, breaker_open, rejected, aborted, invalid_json, schema_mismatch, truncated, refusal, empty.',
      labelNames: ['endpoint', 'class'],
      registers,
    }),
    fallbacks: new Counter({
      name: 'llm_fallback_requests_total',
      help: 'Calls sent to the fallback endpoint because the primary was unavailable, by the primary failure.',
      labelNames: ['reason'],
      registers,
    }),
    waiting: new Gauge({
      name: 'llm_requests_waiting',
      help: 'Calls waiting for a concurrency slot of the endpoint.',
      labelNames: ['endpoint'],
      registers,
    }),
    inFlight: new Gauge({
      name: 'llm_requests_in_flight',
      help: 'Requests sent to the endpoint and not answered yet.',
      labelNames: ['endpoint'],
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
