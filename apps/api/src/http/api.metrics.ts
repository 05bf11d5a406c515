import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ApiMetrics {
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  messagesAccepted: Counter<'channel'>;
  messagesReplayed: Counter;
  statusUpdates: Counter<'channel' | 'outcome'>;
  webhookEvents: Counter<'channel' | 'outcome'>;
  eventsPublishFailed: Counter;
  wsConnections: Gauge;
  uploadsCreated: Counter;
  uploadChunks: Counter<'outcome'>;
  uploadBytesReceived: Counter;
  uploadChunkStreams: Gauge;
  uploadMergeRequests: Counter;
  jobsCreated: Counter<'kind'>;
  jobsCancelled: Counter<'kind'>;
  jobEventStreams: Gauge<'transport' | 'scope'>;
  jobEventsRelayed: Counter<'transport'>;
  poolClaims: Counter<'pool' | 'outcome'>;
}

/** What a claim got (`pool_claims_total{outcome}`): an item, or nothing that fits. */
export type PoolClaimOutcome = 'claimed' | 'empty';

/** How job events reach a client (`job_event_streams_open{transport}`). */
export type JobEventTransport = 'websocket' | 'sse';
/** One job's events, or every job of the caller (`job_event_streams_open{scope}`). */
export type JobEventScope = 'job' | 'user';

/** What became of a chunk whose body was streamed (`upload_chunks_total{outcome}`). */
export type ChunkOutcome =
  | 'stored'
  | 'duplicate'
  | 'conflict'
  | 'not_uploading'
  | 'checksum_mismatch'
  | 'content_mismatch'
  | 'aborted'
  | 'error';

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
      help: 'Channel webhook status events, by channel and outcome (enqueued, stale, unknown_message).',
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
    uploadsCreated: new Counter({
      name: 'uploads_created_total',
      help: 'Chunked uploads started (POST /v1/uploads answered 201).',
      registers,
    }),
    uploadChunks: new Counter({
      name: 'upload_chunks_total',
      help:
        'Chunk bodies streamed to the object store, by outcome (stored, duplicate, conflict, not_uploading, ' +
        'checksum_mismatch, content_mismatch, aborted, error). Chunks refused before their body is read are not counted.',
      labelNames: ['outcome'],
      registers,
    }),
    uploadBytesReceived: new Counter({
      name: 'upload_bytes_received_total',
      help: 'Chunk bytes received from clients and streamed on, whatever became of the chunk.',
      registers,
    }),
    uploadChunkStreams: new Gauge({
      name: 'upload_chunk_streams_in_flight',
      help: 'Chunk bodies being streamed to the object store right now on this replica.',
      registers,
    }),
    uploadMergeRequests: new Counter({
      name: 'upload_merge_requests_total',
      help: 'Uploads moved to MERGING with their upload.merge.requested.1 outbox event.',
      registers,
    }),
    jobsCreated: new Counter({
      name: 'jobs_created_total',
      help: 'Jobs created with their request in the outbox (story_enhancement, map_generation), by kind.',
      labelNames: ['kind'],
      registers,
    }),
    jobsCancelled: new Counter({
      name: 'jobs_cancelled_total',
      help: 'Jobs cancelled by their owner (PENDING or PROCESSING → CANCELLED), by kind.',
      labelNames: ['kind'],
      registers,
    }),
    jobEventStreams: new Gauge({
      name: 'job_event_streams_open',
      help: 'Open job progress streams on this replica, by transport (websocket, sse) and scope (job, user).',
      labelNames: ['transport', 'scope'],
      registers,
    }),
    jobEventsRelayed: new Counter({
      name: 'job_events_relayed_total',
      help: 'Job progress events (and gap notices) sent to clients, by transport.',
      labelNames: ['transport'],
      registers,
    }),
    poolClaims: new Counter({
      name: 'pool_claims_total',
      help: 'Content pool claims answered, by pool and outcome (claimed, empty: nothing that fits, 404 POOL_EMPTY).',
      labelNames: ['pool', 'outcome'],
      registers,
    }),
  };
}
