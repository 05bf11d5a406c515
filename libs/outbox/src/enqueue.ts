import { randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import { FleetHeaders, type TopicContract } from '@fleet/contracts';
import { type EntityManager } from '@fleet/db';
import { OutboxError } from './outbox.errors';

/** One event to publish once the caller's transaction commits. */
export interface OutboxEventInput<T> {
  /** What the event is about, e.g. `conversation`; for operators and consumers' routing. */
  aggregateType: string;
  /** The aggregate's id: the Kafka key, so its events keep their order. */
  aggregateKey: string;
  /** e.g. `message.created`; sent as the `x-event-type` header. */
  eventType: string;
  payload: T;
  /** Extra Kafka headers (strings). `traceparent` is added from the active span. */
  headers?: Record<string, string>;
  /** The event id; generated when absent. Give one to make a retried request idempotent. */
  id?: string;
}

const HEADER_NAME = /^[\x21-\x7e]+$/;

/**
 * Writes an outbox row with `manager`, which must be the caller's transactional manager
 * (`dataSource.transaction(async (tx) => { …; await enqueue(tx, topic, event) })`), so the event
 * exists if and only if the business change commits. The payload is validated against the
 * topic's schema first: an event consumers would reject is never written, the caller's
 * transaction fails instead. The active trace context travels along in the row's headers.
 *
 * @returns the event id.
 * @throws {@link OutboxError} `OUTBOX_PAYLOAD_INVALID` or `OUTBOX_EVENT_INVALID`.
 */
export async function enqueue<T>(
  manager: EntityManager,
  contract: TopicContract<T>,
  event: OutboxEventInput<T>,
): Promise<string> {
  const parsed = contract.schema.safeParse(event.payload);
  if (!parsed.success) {
    throw new OutboxError(
      'OUTBOX_PAYLOAD_INVALID',
      `${event.eventType} for ${contract.name} does not match the topic's schema: ${parsed.error.issues
        .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
        .join('; ')}`,
    );
  }
  if (!event.aggregateKey) {
    throw new OutboxError(
      'OUTBOX_EVENT_INVALID',
      `${event.eventType}: aggregateKey is required (it is the Kafka key)`,
    );
  }
  if (!event.aggregateType || !event.eventType) {
    throw new OutboxError('OUTBOX_EVENT_INVALID', 'aggregateType and eventType are required');
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (!HEADER_NAME.test(name) || typeof value !== 'string') {
      throw new OutboxError(
        'OUTBOX_EVENT_INVALID',
        `header "${name}" must be a printable ASCII name with a string value`,
      );
    }
    headers[name] = value;
  }
  propagation.inject(context.active(), headers);
  const id = event.id ?? randomUUID();
  headers[FleetHeaders.eventType] = event.eventType;
  await manager.query(
    `INSERT INTO outbox_events (id, aggregate_type, aggregate_key, event_type, topic, payload, headers)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      id,
      event.aggregateType,
      event.aggregateKey,
      event.eventType,
      contract.name,
      JSON.stringify(parsed.data),
      JSON.stringify(headers),
    ],
  );
  return id;
}
