import { type Sql } from '@fleet/db';

/** A row the poller holds (row lock and key lock) until its transaction ends. */
export interface ClaimedEvent {
  id: string;
  seq: string;
  aggregateType: string;
  aggregateKey: string;
  eventType: string;
  topic: string;
  /** The payload as JSON text, ready to send. */
  payload: string;
  headers: Record<string, string>;
  attempts: number;
  createdAt: Date;
}

/** How often a rejected event is tried again, and when it is parked. */
export interface OutboxRetryPolicy {
  /** Publish attempts before the event is parked. @defaultValue 5 */
  maxAttempts: number;
  /** Delay after the first rejection; doubled per attempt (1 s, 2 s, 4 s …). @defaultValue 1000 */
  initialBackoffMs: number;
  /** @defaultValue 300000 */
  maxBackoffMs: number;
}

export const DEFAULT_OUTBOX_RETRY_POLICY: OutboxRetryPolicy = {
  maxAttempts: 5,
  initialBackoffMs: 1_000,
  maxBackoffMs: 300_000,
};

/** Delay before attempt `attempt + 1`, after `attempt` rejections (1-based). */
export function outboxBackoffMs(attempt: number, policy: OutboxRetryPolicy): number {
  return Math.min(policy.initialBackoffMs * 2 ** Math.max(0, attempt - 1), policy.maxBackoffMs);
}

export interface OutboxStats {
  /** Rows not yet published and not parked. */
  pending: number;
  /** Rows that ran out of attempts, waiting for an operator. */
  parked: number;
  /** Age of the oldest pending row, 0 when there is none. */
  oldestPendingAgeSeconds: number;
}

/** A parked event as shown to operators. */
export interface ParkedEvent {
  id: string;
  aggregateKey: string;
  eventType: string;
  topic: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  parkedAt: Date;
}

/**
 * Lock space of the per-key advisory locks (the two-int form, so it never meets the single-bigint
 * locks of migrations). The key is hashed with the schema, so schemas never contend.
 */
const KEY_LOCK_SPACE = 0x0b0c;

interface Row {
  id: string;
  seq: string;
  aggregate_type: string;
  aggregate_key: string;
  event_type: string;
  topic: string;
  payload: string;
  headers: Record<string, string>;
  attempts: number;
  created_at: Date;
  waiting: boolean;
}

/**
 * The SQL of the outbox poller. Every method takes the `Sql` of a transaction the caller owns;
 * what `claim` returns stays locked until that transaction ends.
 *
 * Ordering across pollers (see apps/outbox-poller/README.md): a poller publishes rows of a key
 * only while it holds that key's transaction-scoped advisory lock, and takes the key's oldest
 * pending rows, in order (a prefix: the rest waits for the next batch). A second poller skips locked keys, so it can never
 * publish a later row of a key while an earlier one is in flight elsewhere. Rows are found by
 * scanning everything unpublished (no high-water mark), so a row whose transaction committed late
 * is picked up on the next poll instead of being skipped.
 */
export class OutboxStore {
  /**
   * Claims about `batchSize` publishable rows: the keys of the oldest pending rows, and for each
   * key its oldest rows in order. Keys held by another poller are skipped; a key whose head row
   * waits out a backoff is skipped entirely (per-key order); parked rows hold nothing back.
   */
  async claim(sql: Sql, batchSize: number): Promise<ClaimedEvent[]> {
    // One statement. `candidates`: the keys of the oldest publishable rows. `owned`: those whose
    // advisory lock we got — a CTE with a volatile function is materialized, and a volatile qual is
    // never pushed below a LIMIT, so locks are tried on those few keys only, never on a scan the
    // planner widened. Then, per owned key, its oldest pending rows through the key's index range
    // (a prefix is all order needs: nobody else may publish the key while we hold its lock).
    // Rows another poller published since this statement's snapshot are re-checked when locked
    // (READ COMMITTED re-evaluates the WHERE clause on the newest row version) and drop out.
    const rows = await sql.rows<Row>(
      `WITH candidates AS (
         SELECT DISTINCT aggregate_key AS key FROM (
           SELECT e.aggregate_key FROM outbox_events e
            WHERE e.published_at IS NULL AND e.parked_at IS NULL
              AND NOT EXISTS (
                SELECT 1 FROM outbox_events b
                 WHERE b.aggregate_key = e.aggregate_key
                   AND b.published_at IS NULL AND b.parked_at IS NULL
                   AND b.next_attempt_at IS NOT NULL AND b.next_attempt_at > now()
                   AND b.seq <= e.seq)
            ORDER BY e.seq
            LIMIT $1) oldest),
       owned AS MATERIALIZED (
         SELECT key FROM candidates
          WHERE pg_try_advisory_xact_lock($2, hashtext(current_schema() || '/' || key)))
       SELECT r.* FROM owned
       CROSS JOIN LATERAL (
         SELECT id, seq, aggregate_type, aggregate_key, event_type, topic, payload::text AS payload,
                headers, attempts, created_at,
                (next_attempt_at IS NOT NULL AND next_attempt_at > now()) AS waiting
           FROM outbox_events
          WHERE aggregate_key = owned.key AND published_at IS NULL AND parked_at IS NULL
          ORDER BY seq
          LIMIT greatest(1, ceil($1::numeric / greatest(1, (SELECT count(*) FROM owned))))
          FOR UPDATE SKIP LOCKED) r
       ORDER BY r.seq`,
      [batchSize, KEY_LOCK_SPACE],
      'outbox_claim',
    );
    const blocked = new Set<string>();
    const claimed: ClaimedEvent[] = [];
    for (const row of rows) {
      if (row.waiting) blocked.add(row.aggregate_key);
      if (blocked.has(row.aggregate_key)) continue;
      claimed.push({
        id: row.id,
        seq: row.seq,
        aggregateType: row.aggregate_type,
        aggregateKey: row.aggregate_key,
        eventType: row.event_type,
        topic: row.topic,
        payload: row.payload,
        headers: row.headers,
        attempts: row.attempts,
        createdAt: row.created_at,
      });
    }
    return claimed;
  }

  /** Marks rows published: one statement for the whole batch. */
  async markPublished(sql: Sql, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await sql.rows(
      `UPDATE outbox_events
          SET published_at = now(), next_attempt_at = NULL, last_error = NULL
        WHERE id = ANY($1::uuid[])`,
      [ids],
      'outbox_mark_published',
    );
  }

  /**
   * Records that the broker refused a row: it waits out a backoff (holding back later rows of its
   * key), or is parked once it has had `maxAttempts`.
   * @returns whether the row is now parked.
   */
  async recordRejection(
    sql: Sql,
    event: Pick<ClaimedEvent, 'id' | 'attempts'>,
    error: string,
    policy: OutboxRetryPolicy,
  ): Promise<{ parked: boolean; attempts: number }> {
    const attempts = event.attempts + 1;
    const parked = attempts >= policy.maxAttempts;
    await sql.rows(
      `UPDATE outbox_events
          SET attempts = $2, last_error = $3,
              next_attempt_at = CASE WHEN $4 THEN NULL ELSE now() + $5 * interval '1 millisecond' END,
              parked_at = CASE WHEN $4 THEN now() ELSE NULL END
        WHERE id = $1`,
      [event.id, attempts, error.slice(0, 2000), parked, outboxBackoffMs(attempts, policy)],
    );
    return { parked, attempts };
  }

  async stats(sql: Sql): Promise<OutboxStats> {
    const [row]: { pending: string; parked: string; oldest: number | null }[] = await sql.rows(
      `SELECT count(*) FILTER (WHERE parked_at IS NULL) AS pending,
              count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
              extract(epoch FROM now() - min(created_at) FILTER (WHERE parked_at IS NULL))::float8 AS oldest
         FROM outbox_events
        WHERE published_at IS NULL`,
    );
    return {
      pending: Number(row?.pending ?? 0),
      parked: Number(row?.parked ?? 0),
      oldestPendingAgeSeconds: Math.max(0, row?.oldest ?? 0),
    };
  }

  async listParked(sql: Sql, limit = 100): Promise<ParkedEvent[]> {
    const rows: {
      id: string;
      aggregate_key: string;
      event_type: string;
      topic: string;
      attempts: number;
      last_error: string | null;
      created_at: Date;
      parked_at: Date;
    }[] = await sql.rows(
      `SELECT id, aggregate_key, event_type, topic, attempts, last_error, created_at, parked_at
         FROM outbox_events WHERE parked_at IS NOT NULL ORDER BY seq LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: r.id,
      aggregateKey: r.aggregate_key,
      eventType: r.event_type,
      topic: r.topic,
      attempts: r.attempts,
      lastError: r.last_error,
      createdAt: r.created_at,
      parkedAt: r.parked_at,
    }));
  }

  /**
   * Puts parked rows back in line with a fresh attempt budget: the given ids, or all of them.
   * A replayed event reaches consumers after later events of its key (it was parked meanwhile).
   * @returns the ids replayed.
   */
  async replayParked(sql: Sql, ids?: readonly string[]): Promise<string[]> {
    const rows: { id: string }[] = await sql.rows(
      // A CTE so the ids come back in event order (RETURNING has none).
      `WITH replayed AS (
         UPDATE outbox_events
            SET parked_at = NULL, attempts = 0, next_attempt_at = NULL
          WHERE parked_at IS NOT NULL AND ($1::uuid[] IS NULL OR id = ANY($1::uuid[]))
          RETURNING id, seq)
       SELECT id FROM replayed ORDER BY seq`,
      [ids ? [...ids] : null],
    );
    return rows.map((r) => r.id);
  }

  /** Deletes up to `limit` rows published more than `olderThanMs` ago; returns how many. */
  async purgePublished(sql: Sql, olderThanMs: number, limit = 10_000): Promise<number> {
    const rows: { id: string }[] = await sql.rows(
      `DELETE FROM outbox_events WHERE id IN (
         SELECT id FROM outbox_events
          WHERE published_at IS NOT NULL AND published_at < now() - $1 * interval '1 millisecond'
          LIMIT $2)
       RETURNING id`,
      [olderThanMs, limit],
    );
    return rows.length;
  }
}
