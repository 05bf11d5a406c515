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
 * An outbox row ready to be written: validated, with its id and headers (the active trace context
 * included). For callers that write it inside a larger statement of their own (a data-modifying
 * CTE, a PL/pgSQL function) to save round trips; {@link enqueue} and {@link enqueueAll} write it.
 */
export interface PreparedOutboxRow {
  id: string;
  aggregateType: string;
  aggregateKey: string;
  eventType: string;
  topic: string;
  /** The payload as parsed by the topic's schema, JSON-encoded. */
  payload: string;
  /** JSON-encoded string map. */
  headers: string;
}

/**
 * Validates an event for `contract` and prepares its row, without writing it.
 *
 * @throws {@link OutboxError} `OUTBOX_PAYLOAD_INVALID` or `OUTBOX_EVENT_INVALID`.
 */
export function prepareOutboxRow<T>(
  contract: TopicContract<T>,
  event: OutboxEventInput<T>,
): PreparedOutboxRow {
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
  headers[FleetHeaders.eventType] = event.eventType;
  return {
    id: event.id ?? randomUUID(),
    aggregateType: event.aggregateType,
    aggregateKey: event.aggregateKey,
    eventType: event.eventType,
    topic: contract.name,
    payload: JSON.stringify(parsed.data),
    headers: JSON.stringify(headers),
  };
}

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
  const [id] = await enqueueAll(manager, [prepareOutboxRow(contract, event)]);
  return id!;
}

/** The columns a prepared row fills, in the order of {@link outboxRowValues}. */
export const OUTBOX_ROW_COLUMNS = 'id, aggregate_type, aggregate_key, event_type, topic, payload, headers';

/**
 * A prepared row's values in the order of {@link OUTBOX_ROW_COLUMNS}, as query parameters for a
 * caller that writes the row inside a statement of its own.
 */
export function outboxRowValues(
  row: PreparedOutboxRow,
): [string, string, string, string, string, string, string] {
  return [row.id, row.aggregateType, row.aggregateKey, row.eventType, row.topic, row.payload, row.headers];
}

/**
 * Writes prepared rows in one statement (one round trip however many). A single statement is
 * atomic on its own: outside a transaction the rows are written all or none.
 *
 * Rows take their `seq` (the poller's order) in the order given.
 *
 * @returns the event ids, in order.
 */
export async function enqueueAll(
  manager: EntityManager,
  rows: readonly PreparedOutboxRow[],
): Promise<string[]> {
  if (rows.length === 0) return [];
  const values = rows.map(outboxRowValues);
  await manager.query(
    `INSERT INTO outbox_events (${OUTBOX_ROW_COLUMNS})
     SELECT ${OUTBOX_ROW_COLUMNS}
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[])
            WITH ORDINALITY AS r(${OUTBOX_ROW_COLUMNS}, n)
      ORDER BY n`,
    // One array per column.
    values[0]!.map((_, column) => values.map((row) => row[column])),
  );
  return rows.map((r) => r.id);
}

/**
 * The active span's W3C `traceparent`, for outbox rows written by SQL (functions such as the
 * pools' `enqueue_worker_job` take it as an argument), so a trace continues through them as it
 * does through {@link enqueue}. Undefined without an active, sampled-or-not span.
 */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}
