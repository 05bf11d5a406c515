import { z } from 'zod';

/** The durable Redis list producers fall back to while Kafka is unavailable (seed 004). */
export const FALLBACK_QUEUE = 'fallback:message_queue';
/** Records `redis-backfill` holds between taking them off the queue and the broker's ack. */
export const FALLBACK_PROCESSING = 'fallback:message_queue:processing';
/** Entries that cannot be parsed, each with the reason; nothing drains this list automatically. */
export const FALLBACK_DEAD = 'fallback:message_queue:dead';
/** Lock key: only its holder drains (single-active drainer, see apps/redis-backfill/README.md). */
export const FALLBACK_DRAIN_LOCK = 'fallback:message_queue:drainer';

/**
 * One record on the fallback list: everything needed to send it later exactly as it would have
 * been sent, i.e. topic, key, the encoded value and every header (`traceparent`, `x-event-id`…).
 */
export const fallbackRecordSchema = z.object({
  /** Unique per queued record; consumers still dedup on the `x-event-id` header. */
  id: z.string().min(1),
  topic: z.string().min(1),
  key: z.string().nullable(),
  /** The value exactly as it would have gone to Kafka (UTF-8 JSON for fleet topics). */
  value: z.string(),
  headers: z.record(z.string(), z.string()),
  /** ISO time the record was queued. */
  queuedAt: z.string(),
  /** Why it was queued (the producer's error message). */
  reason: z.string(),
});
export type FallbackRecord = z.infer<typeof fallbackRecordSchema>;

/** An entry of {@link FALLBACK_DEAD}: the raw list entry and why it could not be sent. */
export const fallbackDeadEntrySchema = z.object({
  raw: z.string(),
  reason: z.string(),
  deadAt: z.string(),
});
export type FallbackDeadEntry = z.infer<typeof fallbackDeadEntrySchema>;

/** Redis pub/sub channel: one notification per event the outbox poller published (seed 004). */
export const OUTBOX_PUBLISHED_CHANNEL = 'outbox:published';

export const outboxPublishedNotificationSchema = z.object({
  eventId: z.string(),
  topic: z.string(),
  key: z.string(),
  eventType: z.string(),
  aggregateType: z.string(),
  publishedAt: z.string(),
});
export type OutboxPublishedNotification = z.infer<typeof outboxPublishedNotificationSchema>;
