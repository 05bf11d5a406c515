/**
 * Kafka header names the fleet agrees on. Values are UTF-8 strings.
 * `traceparent`/`tracestate` are the W3C names, so any OpenTelemetry propagator reads them.
 */
export const FleetHeaders = {
  /** Unique id of the event (the outbox row id); consumers dedup on it. */
  eventId: 'x-event-id',
  /** The event's type, e.g. `message.created`. */
  eventType: 'x-event-type',
  traceparent: 'traceparent',
  tracestate: 'tracestate',

  /** On `.retry` records: the consumer group that must re-run the message (others skip it). */
  retryGroup: 'x-retry-group',
  /** On `.retry` records: the attempt number the retry will be (2 for the first retry). */
  retryAttempt: 'x-retry-attempt',
  /** On `.retry` records: epoch ms before which the retry must not run. */
  retryDueAt: 'x-retry-due-at',

  /** On `.retry` and `.dlq` records: where the message was first consumed from. */
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  /** On `.retry` and `.dlq` records: ISO time of the first failure. */
  firstFailureAt: 'x-first-failure-at',

  /** On `.dlq` records: why the message was dead-lettered (one of {@link DLQ_REASONS}). */
  dlqReason: 'x-dlq-reason',
  /** On `.dlq` records: the code of the last error (the handler's own `code`, or its class name). */
  dlqErrorCode: 'x-dlq-error-code',
  dlqErrorMessage: 'x-dlq-error-message',
  dlqErrorName: 'x-dlq-error-name',
  dlqAttempts: 'x-dlq-attempts',
  dlqConsumerGroup: 'x-dlq-consumer-group',
  dlqFailedAt: 'x-dlq-failed-at',
  /**
   * On `.dlq` records whose value was left out: its size and why (the record with the failure
   * headers on top was over the broker's limit). The value stays at its original coordinates.
   */
  dlqValueDropped: 'x-dlq-value-dropped',
  /** Last error seen before a retry, for operators reading `.retry` topics. */
  lastError: 'x-last-error',

  /** Times an operator sent this record back from a DLQ; past the cap a dead letter is parked. */
  redriveCount: 'x-redrive-count',
  /** On a redriven record: the redrive (the operator's action) it belongs to. */
  redriveId: 'x-redrive-id',
  /** ISO time a producer parked this record in the Redis fallback list (kept through the drain). */
  fallbackQueuedAt: 'x-fallback-queued-at',
} as const;

export type FleetHeaderName = (typeof FleetHeaders)[keyof typeof FleetHeaders];

/** The closed set of reasons a consumer dead-letters a message. */
export const DLQ_REASONS = [
  'EMPTY_VALUE',
  'MALFORMED_JSON',
  'SCHEMA_INVALID',
  'NON_RETRIABLE',
  'RETRIES_EXHAUSTED',
] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];
