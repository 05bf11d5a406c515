import { type Sql, type SqlSession } from '@fleet/db';

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
}

/**
 * A claim's events, and how many rows the claim locked: more than the events when some keys' head
 * rows wait out a backoff (those keys are left out). A claim that locked fewer rows than its batch
 * size found no more to take.
 */
export type ClaimedEvents = ClaimedEvent[] & { readonly rowsClaimed: number };

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
   * Claims up to `batchSize` publishable rows, oldest first, skipping keys another poller holds.
   * `scanLimit` is how far past the head of the backlog a poller looks for keys nobody holds: with
   * N pollers busy on the oldest rows, the (N+1)-th finds its batch further down. A key whose head
   * row waits out a backoff is skipped entirely (per-key order); parked rows hold nothing back.
   */
  async claim(sql: Sql, batchSize: number, scanLimit = batchSize * 4): Promise<ClaimedEvents> {
    // Unnamed, so planned for this execution with the table's size now (see EXECUTE_CLAIM).
    const rows = await sql.rows<Row>(CLAIM_SQL, claimParameters(batchSize, scanLimit));
    return claimedEvents(rows);
  }

  /**
   * {@link OutboxStore.claim} as the first statement of a new transaction on `session`: BEGIN and
   * the claim travel in one round trip. End the transaction with
   * {@link OutboxStore.markPublishedAndCommit} (a failure is rolled back by `onConnection`).
   */
  async beginAndClaim(
    session: SqlSession,
    batchSize: number,
    scanLimit = batchSize * 4,
  ): Promise<ClaimedEvents> {
    await session.prepare('outbox_claim', CLAIM_SQL, ['int', 'int', 'int']);
    // Integers checked by claimParameters, so inlining them is safe.
    const rows = await session.simple<Row>(
      `BEGIN; ${EXECUTE_CLAIM}(${claimParameters(batchSize, scanLimit).join(', ')})`,
    );
    return claimedEvents(rows);
  }

  /**
   * {@link OutboxStore.markPublished}, then COMMIT, in one round trip: the end of a transaction
   * begun by {@link OutboxStore.beginAndClaim}.
   */
  async markPublishedAndCommit(session: SqlSession, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) {
      await session.simple('COMMIT');
      return;
    }
    await session.simple(`${MARK_PUBLISHED_SQL.replace('$1', uuidArrayLiteral(ids))}; COMMIT`);
  }

  /**
   * Ends a batch and starts the next in one round trip: the mark, COMMIT, BEGIN and the next
   * claim. Resolves to the next batch, held in the new transaction. If it throws, whether the
   * COMMIT happened is unknown: the rows are published again at worst (same event ids).
   */
  async markPublishedCommitAndClaim(
    session: SqlSession,
    ids: readonly string[],
    batchSize: number,
    scanLimit = batchSize * 4,
  ): Promise<ClaimedEvents> {
    await session.prepare('outbox_claim', CLAIM_SQL, ['int', 'int', 'int']);
    const mark = ids.length > 0 ? `${MARK_PUBLISHED_SQL.replace('$1', uuidArrayLiteral(ids))}; ` : '';
    const rows = await session.simple<Row>(
      `${mark}COMMIT; BEGIN; ${EXECUTE_CLAIM}(${claimParameters(batchSize, scanLimit).join(', ')})`,
    );
    return claimedEvents(rows);
  }

  /**
   * Whether any row could be claimed now, ignoring key locks: after an empty claim, tells "other
   * pollers hold the backlog" from "there is no backlog".
   */
  async hasPublishable(sql: Sql): Promise<boolean> {
    const [row] = await sql.rows<{ publishable: boolean }>(
      `SELECT EXISTS (${PUBLISHABLE_SQL}) AS publishable`,
      [],
      'outbox_has_publishable',
    );
    return row?.publishable ?? false;
  }

  /** Marks rows published: one statement for the whole batch. */
  async markPublished(sql: Sql, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await sql.rows(MARK_PUBLISHED_SQL, [ids], 'outbox_mark_published');
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

/** Pending rows not waiting out a backoff, nor behind a row of their key that is. */
const PUBLISHABLE_SQL = `SELECT e.id, e.aggregate_key, e.seq FROM outbox_events e
  WHERE e.published_at IS NULL AND e.parked_at IS NULL
    AND NOT EXISTS (
      SELECT 1 FROM outbox_events b
       WHERE b.aggregate_key = e.aggregate_key
         AND b.published_at IS NULL AND b.parked_at IS NULL
         AND b.next_attempt_at IS NOT NULL AND b.next_attempt_at > now()
         AND b.seq <= e.seq)`;

/*
 * The claim, one statement.
 * - `oldest`: the oldest publishable rows in order; a key's rows in it are that key's oldest
 *   pending rows, a prefix. `key_head` marks each key's first row there.
 * - `mine`: walking them in order, the first $1 whose key's advisory lock we get or already hold.
 *   The CTE is materialized and a volatile qual is never pushed below a LIMIT, so locks are tried
 *   row by row until the batch is full, never on keys beyond it.
 * - `whole`: a key counts only if we got its lock at its head row: another poller may commit and
 *   let go of the key halfway through our walk, and taking the key's later rows then would skip
 *   the rows in between. Once held, a lock stays held, so a key that passes has all its walked
 *   rows, a prefix; and nobody else may publish it while we hold it: order per key.
 * Rows another poller published since this statement's snapshot are re-checked when locked
 * (READ COMMITTED re-evaluates the WHERE clause on the newest row version) and drop out.
 *
 * The statement is prepared, so PostgreSQL may run it with a generic plan made while the table was
 * small. Every step is therefore bounded by the batch whatever the plan: the CTEs are
 * materialized (none is re-run per row), and the rows of `mine` are fetched by primary key (with
 * sequential scans off: {@link EXECUTE_CLAIM}). The pending filter there is written so that no
 * partial index matches it: a generic plan once scanned the whole pending index for every row of
 * `mine`, quadratic in the backlog (6 ms a claim at a few thousand pending rows).
 */
export const CLAIM_SQL = `WITH oldest AS MATERIALIZED (
     SELECT id, aggregate_key, seq, seq = min(seq) OVER (PARTITION BY aggregate_key) AS key_head
       FROM (${PUBLISHABLE_SQL} ORDER BY e.seq LIMIT $3) AS w
      ORDER BY seq),
   mine AS MATERIALIZED (
     SELECT id, aggregate_key, key_head FROM oldest
      WHERE pg_try_advisory_xact_lock($2, hashtext(current_schema() || '/' || aggregate_key))
      LIMIT $1),
   whole AS MATERIALIZED (SELECT aggregate_key FROM mine WHERE key_head)
   SELECT o.id, o.seq, o.aggregate_type, o.aggregate_key, o.event_type, o.topic,
          o.payload::text AS payload, o.headers, o.attempts,
          (o.next_attempt_at IS NOT NULL AND o.next_attempt_at > now()) AS waiting
     FROM mine m
     JOIN outbox_events o ON o.id = m.id
    WHERE m.aggregate_key IN (SELECT aggregate_key FROM whole)
      AND (o.published_at IS NULL AND o.parked_at IS NULL) IS TRUE
    ORDER BY o.seq
    FOR UPDATE OF o SKIP LOCKED`;

/**
 * The prepared claim runs with sequential scans disabled, in its transaction only. Its plan is
 * cached, and PostgreSQL makes the cached plan once, early, from the statistics of the moment: on
 * a table that has not been analyzed yet (a new deployment, every test, the benchmarks) they say
 * "empty", and that plan fetched each row of `mine` with a scan of the whole table, 2–20 ms a
 * claim at a few thousand rows (auto_explain, chat benchmark), until autovacuum's ANALYZE
 * replaced it. No step of the claim should ever read the table beyond its batch, so no plan of it
 * has a sequential scan: measured, 0.07 ms a claim (pg_stat_statements, 5,881 claims), against
 * 1.9 ms before and 0.3 ms planning alone with a plan made for each execution.
 */
const EXECUTE_CLAIM = 'SET LOCAL enable_seqscan = off; EXECUTE outbox_claim';

const MARK_PUBLISHED_SQL = `UPDATE outbox_events
   SET published_at = now(), next_attempt_at = NULL, last_error = NULL
 WHERE id = ANY($1::uuid[])`;

function claimParameters(batchSize: number, scanLimit: number): [number, number, number] {
  for (const [name, value] of [
    ['batchSize', batchSize],
    ['scanLimit', scanLimit],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return [batchSize, KEY_LOCK_SPACE, Math.max(batchSize, scanLimit)];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `'{…}'::uuid[]` for inlining; ids come from the table's uuid column, and are checked anyway. */
function uuidArrayLiteral(ids: readonly string[]): string {
  const bad = ids.find((id) => !UUID.test(id));
  if (bad !== undefined) throw new RangeError(`not a uuid: ${JSON.stringify(bad)}`);
  return `'{${ids.join(',')}}'::uuid[]`;
}

/** Claimed rows in order, without the keys whose head row waits out a backoff. */
function claimedEvents(rows: readonly Row[]): ClaimedEvents {
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
    });
  }
  return Object.assign(claimed, { rowsClaimed: rows.length });
}
