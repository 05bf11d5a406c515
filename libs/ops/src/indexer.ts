import { dlqTopicOf, FleetHeaders, retryTopicOf, type TopicContract } from '@fleet/contracts';
import { type Sql } from '@fleet/db';
import {
  type KafkaClient,
  provisionTopics,
  RecordTap,
  type RuntimeLogger,
  type TappedRecord,
} from '@fleet/kafka';
import { type Registry } from 'prom-client';
import { opsMetrics } from './metrics';

/** Redrives a record may have before a further trip to the DLQ parks it. */
export const DEFAULT_REDRIVE_CAP = 3;

export interface DeadLetterIndexerOptions {
  kafka: KafkaClient;
  sql: Sql;
  /** The topics whose `.dlq` and `.retry` companions are indexed (provisioned if missing). */
  contracts: ReadonlyArray<TopicContract<unknown>>;
  logger: RuntimeLogger;
  registry: Registry;
  /** @defaultValue `fleet-ops-indexer` */
  groupId?: string;
  /** @defaultValue {@link DEFAULT_REDRIVE_CAP} */
  redriveCap?: number;
}

const stripSuffix = (topic: string, suffix: string) =>
  topic.endsWith(suffix) ? topic.slice(0, -suffix.length) : topic;

const isoOrNull = (value: string | undefined) => {
  const date = new Date(value ?? '');
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
};
const epochIsoOrNull = (value: string | undefined) =>
  value !== undefined && /^\d+$/.test(value) ? new Date(Number(value)).toISOString() : null;
const int = (value: string | undefined, fallback: number) =>
  value !== undefined && /^-?\d+$/.test(value) ? Number(value) : fallback;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text PostgreSQL can hold: NUL (which `jsonb` and `text` refuse) and lone UTF-16 surrogates
 * (which have no UTF-8 encoding) become U+FFFD, as invalid UTF-8 already does when a key or header
 * is decoded. Dead letters are exactly the records that carry such bytes — a key, a header or a
 * parser's message quoting the input — and one of them must not stop the index of its partition.
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');
}

/** The rows as the `jsonb` parameter of the inserts, every string (header names too) storable. */
function storableJson(rows: readonly object[]): string {
  return JSON.stringify(rows, (name, value: unknown) =>
    typeof value === 'string'
      ? storableText(value)
      : name === 'headers' && value !== null && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), v]))
        : value,
  );
}

/**
 * Copies every record of the fleet's `.dlq` and `.retry` topics into PostgreSQL
 * (`ops_dead_letters`, `ops_retries`), where operators filter, redrive and discard them and an
 * event's life is read. Keyed by the records' coordinates, so a batch seen twice changes nothing.
 * A dead letter that arrives with `x-redrive-count` at the cap is stored PARKED: nothing redrives
 * it again by accident, so a message that always fails cannot loop.
 */
export class DeadLetterIndexer {
  private readonly tap: RecordTap;
  private readonly cap: number;
  private readonly metrics;

  constructor(private readonly options: DeadLetterIndexerOptions) {
    this.cap = options.redriveCap ?? DEFAULT_REDRIVE_CAP;
    this.metrics = opsMetrics(options.registry);
    this.tap = new RecordTap(options.kafka, {
      groupId: options.groupId ?? 'fleet-ops-indexer',
      topics: options.contracts.flatMap((c) => [dlqTopicOf(c.name), retryTopicOf(c.name)]),
      logger: options.logger,
      onRecords: (records) => this.index(records),
    });
  }

  async start(): Promise<void> {
    await provisionTopics(this.options.kafka, this.options.contracts);
    await this.tap.start();
  }

  async stop(): Promise<void> {
    await this.tap.stop();
  }

  /** Stores one partition's batch (exposed for tests and tools that replay a topic by hand). */
  async index(records: readonly TappedRecord[]): Promise<void> {
    const dead = records.filter((r) => r.topic.endsWith('.dlq'));
    const retries = records.filter((r) => r.topic.endsWith('.retry'));
    if (dead.length > 0) await this.indexDeadLetters(dead);
    if (retries.length > 0) await this.indexRetries(retries);
  }

  private async indexDeadLetters(records: readonly TappedRecord[]): Promise<void> {
    const rows = records.map((r) => {
      const h = r.headers;
      const redriveCount = int(h[FleetHeaders.redriveCount], 0);
      const parked = redriveCount >= this.cap;
      return {
        dlq_topic: r.topic,
        dlq_partition: r.partition,
        dlq_offset: r.offset,
        topic: h[FleetHeaders.originalTopic] ?? stripSuffix(r.topic, '.dlq'),
        original_partition: int(h[FleetHeaders.originalPartition], -1),
        original_offset: int(h[FleetHeaders.originalOffset], -1),
        consumer_group: h[FleetHeaders.dlqConsumerGroup] ?? '(unknown)',
        reason: h[FleetHeaders.dlqReason] ?? '(unknown)',
        error_code: h[FleetHeaders.dlqErrorCode] ?? '',
        error_message: h[FleetHeaders.dlqErrorMessage] ?? '',
        attempts: int(h[FleetHeaders.dlqAttempts], 1),
        key: r.key?.toString('utf8') ?? null,
        event_id: h[FleetHeaders.eventId] ?? null,
        event_type: h[FleetHeaders.eventType] ?? null,
        traceparent: h[FleetHeaders.traceparent] ?? null,
        headers: h,
        value_b64: r.value?.toString('base64') ?? null,
        first_failure_at: isoOrNull(h[FleetHeaders.firstFailureAt]),
        failed_at: isoOrNull(h[FleetHeaders.dlqFailedAt]) ?? new Date(r.timestamp).toISOString(),
        redrive_count: redriveCount,
        status: parked ? 'PARKED' : 'DEAD',
        status_reason: parked
          ? `redrive cap reached: dead-lettered again after ${redriveCount} redrives`
          : null,
      };
    });
    const inserted = await this.options.sql.rows<{ topic: string; status: string }>(
      `INSERT INTO ops_dead_letters (
         dlq_topic, dlq_partition, dlq_offset, topic, original_partition, original_offset,
         consumer_group, reason, error_code, error_message, attempts, key, event_id, event_type,
         traceparent, headers, value, first_failure_at, failed_at, redrive_count, status, status_reason)
       SELECT dlq_topic, dlq_partition, dlq_offset, topic, original_partition, original_offset,
              consumer_group, reason, error_code, error_message, attempts, key, event_id, event_type,
              traceparent, headers, decode(value_b64, 'base64'), first_failure_at, failed_at,
              redrive_count, status, status_reason
         FROM jsonb_to_recordset($1::jsonb) AS x(
           dlq_topic text, dlq_partition int, dlq_offset bigint, topic text, original_partition int,
           original_offset bigint, consumer_group text, reason text, error_code text,
           error_message text, attempts int, key text, event_id text, event_type text,
           traceparent text, headers jsonb, value_b64 text, first_failure_at timestamptz,
           failed_at timestamptz, redrive_count int, status text, status_reason text)
       ON CONFLICT (dlq_topic, dlq_partition, dlq_offset) DO NOTHING
       RETURNING topic, status`,
      [storableJson(rows)],
    );
    for (const row of inserted) this.metrics.indexed.inc({ topic: row.topic, status: row.status });
    for (const row of rows.filter((r) => r.status === 'PARKED')) {
      this.options.logger.warn(
        {
          topic: row.topic,
          group: row.consumer_group,
          eventId: row.event_id,
          redriveCount: row.redrive_count,
        },
        'dead letter parked: it failed again after the last redrive the cap allows',
      );
    }
  }

  private async indexRetries(records: readonly TappedRecord[]): Promise<void> {
    const rows = records.map((r) => {
      const h = r.headers;
      return {
        retry_topic: r.topic,
        retry_partition: r.partition,
        retry_offset: r.offset,
        topic: h[FleetHeaders.originalTopic] ?? stripSuffix(r.topic, '.retry'),
        consumer_group: h[FleetHeaders.retryGroup] ?? '(unknown)',
        attempt: int(h[FleetHeaders.retryAttempt], 2),
        due_at: epochIsoOrNull(h[FleetHeaders.retryDueAt]),
        last_error: h[FleetHeaders.lastError] ?? null,
        event_id: h[FleetHeaders.eventId] ?? null,
        key: r.key?.toString('utf8') ?? null,
        redrive_id: h[FleetHeaders.redriveId] ?? null,
        redrive_count: int(h[FleetHeaders.redriveCount], 0),
        written_at: new Date(r.timestamp).toISOString(),
      };
    });
    await this.options.sql.rows(
      `INSERT INTO ops_retries (retry_topic, retry_partition, retry_offset, topic, consumer_group,
         attempt, due_at, last_error, event_id, key, redrive_id, redrive_count, written_at)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
         retry_topic text, retry_partition int, retry_offset bigint, topic text, consumer_group text,
         attempt int, due_at timestamptz, last_error text, event_id text, key text, redrive_id uuid,
         redrive_count int, written_at timestamptz)
       ON CONFLICT DO NOTHING`,
      [storableJson(rows)],
    );
  }
}
