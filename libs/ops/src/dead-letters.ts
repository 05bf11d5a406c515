import { DLQ_REASONS, FleetHeaders } from '@fleet/contracts';
import { type Sql } from '@fleet/db';
import { z } from 'zod';
import { isUuid } from './ids';

export const DEAD_LETTER_STATUSES = ['DEAD', 'REDRIVING', 'REDRIVEN', 'DISCARDED', 'PARKED'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/** Which dead letters an operator means: every field narrows; `topic` is the original topic. */
export const deadLetterFilterSchema = z
  .object({
    topic: z.string().min(1).max(249),
    group: z.string().min(1).max(255).optional(),
    reason: z.enum(DLQ_REASONS).optional(),
    errorCode: z.string().min(1).max(200).optional(),
    key: z.string().max(1_000).optional(),
    eventId: z.string().min(1).max(200).optional(),
    from: z.coerce.date().optional(),
    to: z.coerce.date().optional(),
    status: z.enum(DEAD_LETTER_STATUSES).optional(),
  })
  .strict()
  .refine((f) => !f.from || !f.to || f.from <= f.to, { message: '`from` must not be after `to`' });
export type DeadLetterFilter = z.infer<typeof deadLetterFilterSchema>;

export interface DeadLetter {
  id: string;
  topic: string;
  dlqTopic: string;
  dlqPartition: number;
  dlqOffset: string;
  originalPartition: number;
  originalOffset: string;
  consumerGroup: string;
  reason: string;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  key: string | null;
  eventId: string | null;
  eventType: string | null;
  traceId: string | null;
  headers: Record<string, string>;
  value: Buffer | null;
  firstFailureAt: string | null;
  failedAt: string;
  redriveCount: number;
  status: DeadLetterStatus;
  statusReason: string | null;
  statusAt: string;
  redriveId: string | null;
  redriveTopic: string | null;
  redrivePartition: number | null;
  redriveOffset: string | null;
}

export interface DeadLetterRow {
  id: string;
  dlq_topic: string;
  dlq_partition: number;
  dlq_offset: string;
  topic: string;
  original_partition: number;
  original_offset: string;
  consumer_group: string;
  reason: string;
  error_code: string;
  error_message: string;
  attempts: number;
  key: string | null;
  event_id: string | null;
  event_type: string | null;
  traceparent: string | null;
  headers: Record<string, string>;
  value: Buffer | null;
  first_failure_at: Date | null;
  failed_at: Date;
  redrive_count: number;
  status: DeadLetterStatus;
  status_reason: string | null;
  status_at: Date;
  redrive_id: string | null;
  redrive_topic: string | null;
  redrive_partition: number | null;
  redrive_offset: string | null;
}

/** The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`). */
export function traceIdOf(traceparent: string | null | undefined): string | null {
  const match = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent ?? '');
  return match && !/^0+$/.test(match[1]!) ? match[1]! : null;
}

export function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    topic: row.topic,
    dlqTopic: row.dlq_topic,
    dlqPartition: row.dlq_partition,
    dlqOffset: String(row.dlq_offset),
    originalPartition: row.original_partition,
    originalOffset: String(row.original_offset),
    consumerGroup: row.consumer_group,
    reason: row.reason,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    attempts: row.attempts,
    key: row.key,
    eventId: row.event_id,
    eventType: row.event_type,
    traceId: traceIdOf(row.traceparent),
    headers: row.headers,
    value: row.value,
    firstFailureAt: row.first_failure_at?.toISOString() ?? null,
    failedAt: row.failed_at.toISOString(),
    redriveCount: row.redrive_count,
    status: row.status,
    statusReason: row.status_reason,
    statusAt: row.status_at.toISOString(),
    redriveId: row.redrive_id,
    redriveTopic: row.redrive_topic,
    redrivePartition: row.redrive_partition,
    redriveOffset: row.redrive_offset === null ? null : String(row.redrive_offset),
  };
}

/** `WHERE` clause and values of a filter (parameters from `$first`). */
export function filterClause(filter: DeadLetterFilter, first = 1): { where: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    values.push(value);
    conditions.push(sql(`$${first + values.length - 1}`));
  };
  add((p) => `topic = ${p}`, filter.topic);
  if (filter.group !== undefined) add((p) => `consumer_group = ${p}`, filter.group);
  if (filter.reason !== undefined) add((p) => `reason = ${p}`, filter.reason);
  if (filter.errorCode !== undefined) add((p) => `error_code = ${p}`, filter.errorCode);
  if (filter.key !== undefined) add((p) => `key = ${p}`, filter.key);
  if (filter.eventId !== undefined) add((p) => `event_id = ${p}`, filter.eventId);
  if (filter.from !== undefined) add((p) => `failed_at >= ${p}`, filter.from);
  if (filter.to !== undefined) add((p) => `failed_at <= ${p}`, filter.to);
  if (filter.status !== undefined) add((p) => `status = ${p}`, filter.status);
  return { where: conditions.join(' AND '), values };
}

export interface DeadLetterPage {
  items: DeadLetter[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
  total: number;
}

export interface TopicSummary {
  topic: string;
  dlqTopic: string;
  counts: Record<DeadLetterStatus, number>;
  groups: string[];
}

/** Encodes the position after a row: newest first, ties broken by id. */
const cursorOf = (d: DeadLetter) => Buffer.from(`${d.failedAt}|${d.id}`).toString('base64url');

function parseCursor(cursor: string): { at: Date; id: string } | undefined {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || Number.isNaN(date.getTime()) || !/^[\da-f-]{36}$/.test(id)) return undefined;
  return { at: date, id };
}

export class DeadLetterError extends Error {
  constructor(
    readonly code: 'INVALID_CURSOR' | 'NOT_FOUND',
    message: string,
  ) {
    super(message);
    this.name = 'DeadLetterError';
  }
}

/** Reads the dead-letter index. */
export class DeadLetterStore {
  constructor(private readonly sql: Sql) {}

  async topics(): Promise<TopicSummary[]> {
    const rows = await this.sql.rows<{
      topic: string;
      dlq_topic: string;
      status: DeadLetterStatus;
      n: string;
      groups: string[];
    }>(
      `SELECT topic, dlq_topic, status, count(*) AS n, array_agg(DISTINCT consumer_group) AS groups
         FROM ops_dead_letters GROUP BY topic, dlq_topic, status ORDER BY topic`,
    );
    const byTopic = new Map<string, TopicSummary>();
    for (const row of rows) {
      const summary = byTopic.get(row.topic) ?? {
        topic: row.topic,
        dlqTopic: row.dlq_topic,
        counts: Object.fromEntries(DEAD_LETTER_STATUSES.map((s) => [s, 0])) as Record<
          DeadLetterStatus,
          number
        >,
        groups: [],
      };
      summary.counts[row.status] += Number(row.n);
      summary.groups = [...new Set([...summary.groups, ...row.groups])].sort();
      byTopic.set(row.topic, summary);
    }
    return [...byTopic.values()];
  }

  /** Newest first, `limit` per page (1–500). */
  async list(
    filter: DeadLetterFilter,
    options: { limit?: number; cursor?: string } = {},
  ): Promise<DeadLetterPage> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const { where, values } = filterClause(filter);
    let page = where;
    const pageValues = [...values];
    if (options.cursor !== undefined) {
      const cursor = parseCursor(options.cursor);
      if (!cursor) throw new DeadLetterError('INVALID_CURSOR', 'cursor is not one this API returned');
      pageValues.push(cursor.at, cursor.id);
      page += ` AND (failed_at, id) < ($${pageValues.length - 1}, $${pageValues.length})`;
    }
    const [rows, [count]] = await Promise.all([
      this.sql.rows<DeadLetterRow>(
        `SELECT * FROM ops_dead_letters WHERE ${page} ORDER BY failed_at DESC, id DESC LIMIT ${limit + 1}`,
        pageValues,
      ),
      this.sql.rows<{ n: string }>(`SELECT count(*) AS n FROM ops_dead_letters WHERE ${where}`, values),
    ]);
    const items = rows.slice(0, limit).map(toDeadLetter);
    return {
      items,
      nextCursor: rows.length > limit ? cursorOf(items.at(-1)!) : null,
      total: Number(count!.n),
    };
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.sql.rows<DeadLetterRow>(`SELECT * FROM ops_dead_letters WHERE id = $1`, [id]);
    return row && toDeadLetter(row);
  }

  /** Every dead letter of one event, oldest first (an event dead-letters once per group and redrive). */
  async ofEvent(eventId: string): Promise<DeadLetter[]> {
    const rows = await this.sql.rows<DeadLetterRow>(
      `SELECT * FROM ops_dead_letters WHERE event_id = $1 ORDER BY failed_at, dlq_offset`,
      [eventId],
    );
    return rows.map(toDeadLetter);
  }
}

/** The headers a DLQ record carries beyond the original's: dropped when it is sent back. */
export const DLQ_HEADERS: ReadonlySet<string> = new Set([
  FleetHeaders.dlqReason,
  FleetHeaders.dlqErrorCode,
  FleetHeaders.dlqErrorMessage,
  FleetHeaders.dlqErrorName,
  FleetHeaders.dlqAttempts,
  FleetHeaders.dlqConsumerGroup,
  FleetHeaders.dlqFailedAt,
]);
