import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * What happened to one delivery (message × channel) in one handler run:
 * - `sent`: the channel accepted it and the SENT status is committed;
 * - `rejected`: the channel refused it (4xx other than 429): FAILED, DLQ;
 * - `invalid`: over the channel's text limit or no recipient: FAILED, never sent;
 * - `exhausted`: the last attempt failed too: FAILED, DLQ;
 * - `retry`: a retriable failure, another attempt follows;
 * - `duplicate`: already finished (replay, redelivery): skipped, nothing sent;
 * - `busy`: another replica holds the delivery's lease: retried later;
 * - `confirmed`: a call whose outcome was never recorded was confirmed by a channel webhook: SENT
 *   recorded without calling again.
 */
export type DeliveryOutcome =
  'sent' | 'rejected' | 'invalid' | 'exhausted' | 'retry' | 'duplicate' | 'busy' | 'confirmed';

/** How a delivery taken over from a replica that died mid-call ended: confirmed by webhook, or resent. */
export type TakeoverOutcome = 'confirmed' | 'resent';

/**
 * What the confirmations consumer did with one status record:
 * - `recorded`: a webhook confirmed a delivery that was not final yet (SENDING / RETRYING);
 * - `final`: a webhook for a delivery already final here, or unknown to this router (nothing to do);
 * - `ignored`: not a confirmation (the router's own status, a FAILED webhook, no channel id).
 */
export type ConfirmationOutcome = 'recorded' | 'final' | 'ignored';

export interface RouteMetrics {
  deliveries: Counter<'channel' | 'outcome'>;
  channelCallDuration: Histogram<'channel' | 'result'>;
  /** Deliveries taken over from a replica that died mid-call, by {@link TakeoverOutcome}. */
  resumedUnknown: Counter<'channel' | 'outcome'>;
  /** Status records seen by the confirmations consumer, by {@link ConfirmationOutcome}. */
  confirmations: Counter<'channel' | 'outcome'>;
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
      help: 'Deliveries taken over from a replica that died mid-call: outcome confirmed (a webhook proved the channel had it, not sent again) or resent (possible duplicate).',
      labelNames: ['channel', 'outcome'],
      registers,
    }),
    confirmations: new Counter({
      name: 'router_confirmations_total',
      help: 'Status records read by the confirmations consumer: recorded (confirmed an unfinished delivery), final (nothing to do), ignored (not a webhook confirmation).',
      labelNames: ['channel', 'outcome'],
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
