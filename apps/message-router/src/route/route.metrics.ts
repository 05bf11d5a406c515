import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * What happened to one delivery (message × channel) in one handler run:
 * - `sent`: the channel accepted it and the SENT status is committed;
 * - `rejected`: the channel refused it (4xx other than 429): FAILED, DLQ;
 * - `invalid`: over the channel's text limit or no recipient: FAILED, never sent;
 * - `exhausted`: the last attempt failed too: FAILED, DLQ;
 * - `retry`: a retriable failure, another attempt follows;
 * - `duplicate`: already finished (replay, redelivery): skipped, nothing sent;
 * - `busy`: another replica holds the delivery's lease: retried later.
 */
export type DeliveryOutcome = 'sent' | 'rejected' | 'invalid' | 'exhausted' | 'retry' | 'duplicate' | 'busy';

export interface RouteMetrics {
  deliveries: Counter<'channel' | 'outcome'>;
  channelCallDuration: Histogram<'channel' | 'result'>;
  /** Deliveries taken over from a replica that died mid-call: the one window for a duplicate. */
  resumedUnknown: Counter<'channel'>;
  /** A channel accepted a message another replica had already recorded as sent. */
  duplicateSends: Counter<'channel'>;
  dedupCache: Counter<'result'>;
}

export function routeMetrics(registry: Registry): RouteMetrics {
  const registers = [registry];
  return {
    deliveries: new Counter({
      name: 'router_deliveries_total',
      help: 'Deliveries (message × channel) handled, by channel and outcome.',
      labelNames: ['channel', 'outcome'],
      registers,
    }),
    channelCallDuration: new Histogram({
      name: 'router_channel_call_duration_seconds',
      help: 'Duration of one channel API call, by channel and result (ok or the channel error code).',
      labelNames: ['channel', 'result'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    resumedUnknown: new Counter({
      name: 'router_deliveries_resumed_unknown_total',
      help: 'Deliveries whose earlier call ended with no recorded outcome (a replica died mid-call), sent again.',
      labelNames: ['channel'],
      registers,
    }),
    duplicateSends: new Counter({
      name: 'router_duplicate_sends_total',
      help: 'Channel calls that succeeded for a delivery already recorded as finished (a duplicate reached the channel).',
      labelNames: ['channel'],
      registers,
    }),
    dedupCache: new Counter({
      name: 'router_dedup_cache_total',
      help: 'Redis fast-path lookups: hit (finished, skipped), miss (asked the database), error (Redis unreachable).',
      labelNames: ['result'],
      registers,
    }),
  };
}
