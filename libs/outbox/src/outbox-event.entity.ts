import { Column, Entity, PrimaryColumn } from '@fleet/db';

/**
 * A row of `outbox_events` (created by {@link CreateOutboxEvents1763900000000}). Written by
 * {@link enqueue} inside the caller's transaction, published and marked by the outbox poller.
 */
@Entity({ name: 'outbox_events' })
export class OutboxEventEntity {
  /** The event id: also the `x-event-id` Kafka header, which consumers dedup on. */
  @PrimaryColumn('uuid')
  id!: string;

  /** Insertion order; the poller publishes a key's rows in this order. */
  @Column({ type: 'bigint', generated: 'increment', insert: false, update: false })
  seq!: string;

  @Column({ name: 'aggregate_type', type: 'text' })
  aggregateType!: string;

  /** The Kafka key: events of one aggregate keep their order. */
  @Column({ name: 'aggregate_key', type: 'text' })
  aggregateKey!: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: string;

  @Column({ type: 'text' })
  topic!: string;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  /** Kafka headers to send, `traceparent` included when the writer was traced. */
  @Column({ type: 'jsonb' })
  headers!: Record<string, string>;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  /** Publish attempts the broker refused (an outage does not count: it is not the event's fault). */
  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Set while the row waits out a backoff; later rows of its key wait too. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  /** Set when the row ran out of attempts: not published, not retried, until replayed. */
  @Column({ name: 'parked_at', type: 'timestamptz', nullable: true })
  parkedAt!: Date | null;
}
