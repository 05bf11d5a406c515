import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ApiMetrics {
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  messagesAccepted: Counter<'channel'>;
  messagesReplayed: Counter;
  statusUpdates: Counter<'channel' | 'outcome'>;
  webhookEvents: Counter<'channel' | 'outcome'>;
  eventsPublishFailed: Counter;
  wsConnections: Gauge;
}

/** The api's own metrics (HTTP duration by route template, never by raw URL: bounded cardinality). */
export function apiMetrics(registry: Registry): ApiMetrics {
  const registers = [registry];
  return {
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    messagesAccepted: new Counter({
      name: 'chat_messages_accepted_total',
      help: 'Messages stored with their outbox event (202), by conversation channel.',
      labelNames: ['channel'],
      registers,
    }),
    messagesReplayed: new Counter({
      name: 'chat_messages_idempotent_replays_total',
      help: 'Sends answered with an existing message because its Idempotency-Key was seen before.',
      registers,
    }),
    statusUpdates: new Counter({
      name: 'chat_status_updates_total',
      help: 'Status updates consumed, by channel and outcome (applied, stale, unknown_message).',
      labelNames: ['channel', 'outcome'],
      registers,
    }),
    webhookEvents: new Counter({
      name: 'chat_webhook_events_total',
      help: 'Channel webhook status events, by channel and outcome (enqueued, unknown_message).',
      labelNames: ['channel', 'outcome'],
      registers,
    }),
    eventsPublishFailed: new Counter({
      name: 'chat_conversation_events_publish_failures_total',
      help: 'Status changes committed but not announced on Redis pub/sub (Redis unreachable).',
      registers,
    }),
    wsConnections: new Gauge({
      name: 'chat_websocket_connections',
      help: 'Open WebSocket subscriptions on this replica.',
      registers,
    }),
  };
}
