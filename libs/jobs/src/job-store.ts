import { randomUUID } from 'node:crypto';
import { jobKindSchema, type JobRequest, type JobStatus, type TopicContract } from '@fleet/contracts';
import { sqlOf, type EntityManager, type Sql } from '@fleet/db';
import { enqueue } from '@fleet/outbox';
import { JobError } from './jobs.errors';

/** A job as stored. `input` and `result` are JSON the caller validates with its own schema. */
export interface Job {
  id: string;
  /** snake_case, e.g. `map_generation` (`jobKindSchema`). */
  kind: string;
  /** The user the job belongs to: only they may cancel it; their events go to `jobs:user:<ownerId>`. */
  ownerId: string;
  status: JobStatus;
  /** Higher first, for {@link JobStore.claimNext}. */
  priority: number;
  /** Claims so far (the running one included); a release gives its claim back. */
  attempts: number;
  maxAttempts: number;
  /** 0–100 within the current attempt: never lower than before while it runs, 0 again when requeued. */
  progress: number;
  stage: string | null;
  input: unknown;
  /** Set by {@link JobStore.complete}. */
  result: unknown;
  /** Why the job failed, or why its last attempt ended without a result (lease expired, released…). */
  error: string | null;
  /** The worker holding the job; set exactly while PROCESSING. */
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  createdAt: Date;
  /** Start of the latest attempt. */
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
  /**
   * Sequence number of the job's latest progress event, assigned by the transition the event
   * reports (see {@link JobEvents.emit}); 0 before the first claim.
   */
  lastEventSeq: number;
  /** While the job waits or runs, no other job has this key. */
  dedupKey: string | null;
}

export interface NewJob {
  kind: string;
  ownerId: string;
  /** Any JSON value; stored as jsonb. */
  input: unknown;
  /** Higher first. @defaultValue 0 */
  priority?: number;
  /** Claims before the job fails for good. @defaultValue 3 */
  maxAttempts?: number;
  /** @defaultValue a random UUID */
  id?: string;
  /**
   * At most one PENDING or PROCESSING job per key (e.g. `pool:quests`): a unique index on the active
   * jobs' keys refuses a second one (the content pools' SQL functions insert with ON CONFLICT DO
   * NOTHING on it). @defaultValue none (not constrained)
   */
  dedupKey?: string;
}

export interface CreatedJob {
  job: Job;
  /** The outbox event that asks a worker to run the job. */
  eventId: string;
}

/** What {@link JobStore.cancel} did. */
export type CancelOutcome =
  | { outcome: 'cancelled'; job: Job }
  /** Already COMPLETED, FAILED or CANCELLED: nothing changed. */
  | { outcome: 'finished'; job: Job }
  /** No such job, or not this owner's (the two are not told apart, so ids cannot be probed). */
  | { outcome: 'not_found' };

/** Options of {@link JobStore.reapExpired}. */
export interface ReapOptions {
  /**
   * A running job whose attempt started longer ago than this is reaped even if its worker still
   * renews the lease (a hung worker: seed 001's "stuck for 30 min"). @defaultValue 1800000 (30 min)
   */
  stuckAfterMs?: number;
  /** Jobs reaped per call; run again while it returns a full batch. @defaultValue 100 */
  limit?: number;
  /** The reaper's clock. @defaultValue the database's `now()` */
  now?: Date;
}

export interface ReapResult {
  /** Back to PENDING with the reason in `error`; their request is in the outbox again. */
  requeued: Job[];
  /** Out of attempts: FAILED with the reason. Emit `job_failed` for each. */
  failed: Job[];
}

/** Options of {@link JobStore.purgeFinished}: how many finished jobs of a kind to keep, per status. */
export interface RetentionOptions {
  /** @defaultValue 100 (seed 003) */
  keepCompleted?: number;
  /** @defaultValue 50 (seed 003) */
  keepFailed?: number;
  /** @defaultValue 50 */
  keepCancelled?: number;
  /**
   * Finished jobs older than this (by `finished_at`) are deleted whatever the counts above say
   * (seed 001: "clean up old completed jobs"). @defaultValue none (counts only)
   */
  maxAgeMs?: number;
}

export interface PurgeResult {
  completed: number;
  failed: number;
  cancelled: number;
}

/** Current rows of one kind by status (finished ones as far as retention kept them). */
export interface JobKindStats {
  kind: string;
  total: number;
  pending: number;
  processing: number;
  completed: number;
  failed: number;
  cancelled: number;
}

/** Defaults of the store's knobs, for config schemas and docs. */
export const JOB_DEFAULTS = {
  maxAttempts: 3,
  priority: 0,
  stuckAfterMs: 30 * 60_000,
  reapLimit: 100,
  keepCompleted: 100,
  keepFailed: 50,
  keepCancelled: 50,
} as const;

/** Longest error text stored (and sent in a `job_failed` event). */
export const MAX_ERROR_LENGTH = 2000;
/** Longest stage name (the events' limit). */
export const MAX_STAGE_LENGTH = 200;

interface JobRow {
  id: string;
  kind: string;
  owner_id: string;
  status: JobStatus;
  priority: number;
  attempts: number;
  max_attempts: number;
  progress: number;
  stage: string | null;
  input: unknown;
  result: unknown;
  error: string | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
  last_event_seq: string;
  dedup_key: string | null;
}

const COLUMNS = `id, kind, owner_id, status, priority, attempts, max_attempts, progress, stage, input, result,
  error, lease_owner, lease_expires_at, created_at, started_at, finished_at, updated_at, last_event_seq, dedup_key`;

/** {@link COLUMNS} of `jobs j`, for statements that join. */
const J_COLUMNS = COLUMNS.split(',')
  .map((column) => `j.${column.trim()}`)
  .join(', ');

const toJob = (r: JobRow): Job => ({
  id: r.id,
  kind: r.kind,
  ownerId: r.owner_id,
  status: r.status,
  priority: r.priority,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  progress: r.progress,
  stage: r.stage,
  input: r.input,
  result: r.result,
  error: r.error,
  leaseOwner: r.lease_owner,
  leaseExpiresAt: r.lease_expires_at,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  updatedAt: r.updated_at,
  lastEventSeq: Number(r.last_event_seq),
  dedupKey: r.dedup_key,
});

/** `$n` milliseconds as an interval. */
const ms = (param: string) => `(${param}::float8 * interval '1 millisecond')`;

/** What a new attempt starts with: a fresh lease, progress from 0, the next event number. */
const CLAIM_SET = `status = 'PROCESSING', attempts = attempts + 1, started_at = now(),
  lease_owner = $2, lease_expires_at = now() + ${ms('$3')}, progress = 0, stage = NULL,
  last_event_seq = last_event_seq + 1, updated_at = now()`;

/** Back to the queue: no lease, progress from 0 for the next attempt. */
const REQUEUE_SET = `status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, progress = 0, stage = NULL`;

/** Only the job's current holder may touch a running job. */
const HELD_BY = `status = 'PROCESSING' AND lease_owner = $2`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids come from URLs and messages: one that is not a UUID names no job (rather than a SQL error). */
const isJobId = (id: string): boolean => UUID.test(id);

function invalid(message: string): never {
  throw new JobError('JOB_INVALID', message);
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    invalid(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function checkLeaseMs(leaseMs: number): void {
  if (!Number.isFinite(leaseMs) || leaseMs < 1) invalid(`leaseMs must be a positive number, got ${leaseMs}`);
}

function checkWorker(workerId: string): void {
  if (!workerId) invalid('workerId is required');
}

function toJson(name: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new JobError('JOB_INVALID', `${name} is not JSON-serializable`, { cause: error });
  }
  if (json === undefined) invalid(`${name} is not a JSON value`);
  return json;
}

/** `30 min`, `90 s`, `250 ms`: for reasons people read. */
function humanDuration(milliseconds: number): string {
  if (milliseconds >= 60_000 && milliseconds % 60_000 === 0) return `${milliseconds / 60_000} min`;
  if (milliseconds >= 1_000 && milliseconds % 1_000 === 0) return `${milliseconds / 1_000} s`;
  return `${milliseconds} ms`;
}

/** Validated parameters of a job insert, in the order both insert statements take them. */
function insertValues(tx: EntityManager, method: string, job: NewJob): unknown[] {
  assertInTransaction(tx, method);
  const kind = jobKindSchema.safeParse(job.kind);
  if (!kind.success) invalid(`kind "${job.kind}": ${kind.error.issues[0]?.message ?? 'invalid'}`);
  if (!job.ownerId) invalid('ownerId is required');
  if (job.id !== undefined && !isJobId(job.id)) invalid(`id "${job.id}" is not a UUID`);
  if (job.dedupKey !== undefined && (job.dedupKey === '' || job.dedupKey.length > 200)) {
    invalid('dedupKey must be 1–200 characters');
  }
  const priority = job.priority ?? JOB_DEFAULTS.priority;
  const maxAttempts = job.maxAttempts ?? JOB_DEFAULTS.maxAttempts;
  checkInteger('priority', priority, -1_000_000, 1_000_000);
  checkInteger('maxAttempts', maxAttempts, 1, 1000);
  return [
    job.id ?? randomUUID(),
    job.kind,
    job.ownerId,
    priority,
    maxAttempts,
    toJson('input', job.input),
    job.dedupKey ?? null,
  ];
}

function assertInTransaction(tx: EntityManager, method: string): void {
  if (!tx.queryRunner?.isTransactionActive) {
    throw new JobError(
      'JOB_NOT_IN_TRANSACTION',
      `${method} writes a job and its outbox event together: pass the manager of a transaction (dataSource.transaction(tx => …))`,
    );
  }
}

/**
 * The SQL of the job platform, shared by the api (create, get, cancel, stats), workers (claim,
 * renewLease, reportProgress, complete, fail, release) and the reaper (reapExpired, purgeFinished).
 *
 * Every state change is one conditional `UPDATE … RETURNING`: the condition (`status = 'PENDING'`
 * for a claim, "PROCESSING and leased to me" for a worker's writes) is re-checked under the row
 * lock, so of two racing writers exactly one wins and the other gets `undefined`/`false` without
 * having changed anything. Methods taking `Sql` work in or out of a transaction
 * (`sqlOf(dataSource.manager)` or `inTransaction`); methods taking an `EntityManager` also write
 * the outbox and must run in the caller's transaction.
 */
export class JobStore {
  /**
   * Inserts a PENDING job and enqueues its request (`{ jobId, kind, requestedAt }`, Kafka key = job
   * id) on `topic`, both with `tx`: the job exists if and only if its request will be published.
   * @throws {@link JobError} `JOB_INVALID`, `JOB_NOT_IN_TRANSACTION`; `OutboxError` if the topic's
   * schema rejects the request.
   */
  async create(tx: EntityManager, job: NewJob, topic: TopicContract<JobRequest>): Promise<CreatedJob> {
    const [row] = await sqlOf(tx).rows<JobRow>(
      `INSERT INTO jobs (id, kind, owner_id, priority, max_attempts, input, dedup_key)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING ${COLUMNS}`,
      insertValues(tx, 'create', job),
    );
    const created = toJob(row!);
    return { job: created, eventId: await this.requeue(tx, created, topic) };
  }

  /**
   * Enqueues another request for `job` on `topic` in `tx` (its own event id, so consumers' event-id
   * dedup lets it through; the claim makes extra deliveries no-ops). For a job put back to PENDING
   * outside the reaper, e.g. after {@link JobStore.release}. @returns the event id.
   */
  async requeue(
    tx: EntityManager,
    job: Pick<Job, 'id' | 'kind' | 'createdAt'>,
    topic: TopicContract<JobRequest>,
  ): Promise<string> {
    assertInTransaction(tx, 'requeue');
    return enqueue(tx, topic, {
      aggregateType: 'job',
      aggregateKey: job.id,
      eventType: 'job.requested',
      payload: { jobId: job.id, kind: job.kind, requestedAt: job.createdAt.toISOString() },
    });
  }

  /** The job, or `undefined` when there is none (an id that is not a UUID included). */
  async get(sql: Sql, jobId: string): Promise<Job | undefined> {
    if (!isJobId(jobId)) return undefined;
    const [row] = await sql.rows<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [jobId]);
    return row ? toJob(row) : undefined;
  }

  /**
   * PENDING → PROCESSING for `workerId`: attempts + 1, `started_at`, a lease of `leaseMs`, progress
   * 0, the next event number (for `job_started`). `undefined` when the job is not PENDING (running
   * elsewhere, finished, cancelled) or unknown — a duplicate delivery of its request is then a
   * no-op, and two workers never hold one job.
   */
  async claim(sql: Sql, jobId: string, workerId: string, leaseMs: number): Promise<Job | undefined> {
    checkWorker(workerId);
    if (!isJobId(jobId)) return undefined;
    checkLeaseMs(leaseMs);
    const [row] = await sql.rows<JobRow>(
      `UPDATE jobs SET ${CLAIM_SET} WHERE id = $1 AND status = 'PENDING' RETURNING ${COLUMNS}`,
      [jobId, workerId, leaseMs],
    );
    return row ? toJob(row) : undefined;
  }

  /**
   * {@link JobStore.claim} of the best PENDING job among `kinds` (highest priority, then oldest),
   * skipping jobs another claimer has locked: for workers that poll instead of consuming requests.
   */
  async claimNext(
    sql: Sql,
    kinds: readonly string[],
    workerId: string,
    leaseMs: number,
  ): Promise<Job | undefined> {
    checkWorker(workerId);
    checkLeaseMs(leaseMs);
    const [row] = await sql.rows<JobRow>(
      `UPDATE jobs SET ${CLAIM_SET}
        WHERE id = (SELECT id FROM jobs WHERE status = 'PENDING' AND kind = ANY($1::text[])
                     ORDER BY priority DESC, created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND status = 'PENDING'
       RETURNING ${COLUMNS}`,
      [[...kinds], workerId, leaseMs],
    );
    return row ? toJob(row) : undefined;
  }

  /**
   * Extends the lease to `leaseMs` from now. False when `workerId` no longer holds the job (reaped,
   * cancelled, finished): stop working on it. An expired lease the reaper has not taken yet is still
   * held — nobody else can claim the job until the reaper puts it back to PENDING.
   */
  async renewLease(sql: Sql, jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
    checkWorker(workerId);
    if (!isJobId(jobId)) return false;
    checkLeaseMs(leaseMs);
    const rows = await sql.rows(
      `UPDATE jobs SET lease_expires_at = now() + ${ms('$3')}, updated_at = now()
        WHERE id = $1 AND ${HELD_BY} RETURNING id`,
      [jobId, workerId, leaseMs],
    );
    return rows.length > 0;
  }

  /**
   * Records progress (0–100; a lower value than the stored one keeps the stored one, so progress
   * never goes down within an attempt) and the stage (`undefined` keeps the current one), with the
   * next event number (for `progress_update`). `undefined` when `workerId` does not hold the job.
   */
  async reportProgress(
    sql: Sql,
    jobId: string,
    workerId: string,
    progress: number,
    stage?: string,
  ): Promise<Job | undefined> {
    checkWorker(workerId);
    if (!isJobId(jobId)) return undefined;
    checkInteger('progress', progress, 0, 100);
    if (stage !== undefined && (stage.length === 0 || stage.length > MAX_STAGE_LENGTH)) {
      invalid(`stage must be 1–${MAX_STAGE_LENGTH} characters`);
    }
    const [row] = await sql.rows<JobRow>(
      `UPDATE jobs SET progress = GREATEST(progress, $3), stage = COALESCE($4, stage),
                       last_event_seq = last_event_seq + 1, updated_at = now()
        WHERE id = $1 AND ${HELD_BY} RETURNING ${COLUMNS}`,
      [jobId, workerId, progress, stage ?? null],
    );
    return row ? toJob(row) : undefined;
  }

  /**
   * PROCESSING → COMPLETED with `result` (any JSON value) and progress 100, with the next event
   * number (for `job_completed`). `undefined` when `workerId` does not hold the job: a worker whose
   * lease was reaped never overwrites the outcome of the worker that took the job over.
   */
  async complete(sql: Sql, jobId: string, workerId: string, result: unknown): Promise<Job | undefined> {
    checkWorker(workerId);
    if (!isJobId(jobId)) return undefined;
    const [row] = await sql.rows<JobRow>(
      `UPDATE jobs SET status = 'COMPLETED', result = $3::jsonb, progress = 100, error = NULL,
                       finished_at = now(), lease_owner = NULL, lease_expires_at = NULL,
                       last_event_seq = last_event_seq + 1, updated_at = now()
        WHERE id = $1 AND ${HELD_BY} RETURNING ${COLUMNS}`,
      [jobId, workerId, toJson('result', result ?? null)],
    );
    return row ? toJob(row) : undefined;
  }

  /**
   * Ends the attempt with `error`. With `retry` and attempts left the job goes back to PENDING (no
   * event number: nothing is emitted; the caller arranges the redelivery, e.g. the Kafka retry
   * topic); otherwise FAILED with the next event number (for `job_failed`). `undefined` when
   * `workerId` does not hold the job. Check the returned status.
   */
  async fail(
    sql: Sql,
    jobId: string,
    workerId: string,
    error: string,
    options: { retry: boolean },
  ): Promise<Job | undefined> {
    checkWorker(workerId);
    if (!isJobId(jobId)) return undefined;
    const [row] = await sql.rows<JobRow>(
      `UPDATE jobs SET
          status = CASE WHEN $4 AND attempts < max_attempts THEN 'PENDING' ELSE 'FAILED' END,
          finished_at = CASE WHEN $4 AND attempts < max_attempts THEN NULL ELSE now() END,
          last_event_seq = last_event_seq + CASE WHEN $4 AND attempts < max_attempts THEN 0 ELSE 1 END,
          progress = CASE WHEN $4 AND attempts < max_attempts THEN 0 ELSE progress END,
          stage = CASE WHEN $4 AND attempts < max_attempts THEN NULL ELSE stage END,
          error = $3, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE id = $1 AND ${HELD_BY} RETURNING ${COLUMNS}`,
      [jobId, workerId, (error || 'failed').slice(0, MAX_ERROR_LENGTH), options.retry],
    );
    return row ? toJob(row) : undefined;
  }

  /**
   * Gives a running job back (graceful shutdown): PROCESSING → PENDING and the attempt is not
   * counted (attempts − 1) — the job did nothing wrong, so a rolling deploy never uses up its
   * attempts; a worker that crashes instead is caught by the reaper, which does count. Records why
   * in `error`. The caller arranges the redelivery: {@link JobStore.requeue} in the same
   * transaction, or let its Kafka message be redelivered. `undefined` when `workerId` does not hold
   * the job.
   */
  async release(
    sql: Sql,
    jobId: string,
    workerId: string,
    reason = 'released by its worker',
  ): Promise<Job | undefined> {
    checkWorker(workerId);
    if (!isJobId(jobId)) return undefined;
    const [row] = await sql.rows<JobRow>(
      `UPDATE jobs SET ${REQUEUE_SET}, attempts = GREATEST(attempts - 1, 0), error = $3, updated_at = now()
        WHERE id = $1 AND ${HELD_BY} RETURNING ${COLUMNS}`,
      [jobId, workerId, `${reason} (${workerId})`.slice(0, MAX_ERROR_LENGTH)],
    );
    return row ? toJob(row) : undefined;
  }

  /**
   * The owner cancels a PENDING or PROCESSING job: → CANCELLED with the next event number (emit
   * `job_failed` with error "cancelled"). A running worker learns it at its next lease renewal
   * ({@link withLease} aborts the work) and its complete/fail are refused.
   */
  async cancel(sql: Sql, jobId: string, ownerId: string): Promise<CancelOutcome> {
    if (!isJobId(jobId)) return { outcome: 'not_found' };
    const [row] = await sql.rows<JobRow>(
      `UPDATE jobs SET status = 'CANCELLED', error = 'cancelled by its owner', finished_at = now(),
                       lease_owner = NULL, lease_expires_at = NULL,
                       last_event_seq = last_event_seq + 1, updated_at = now()
        WHERE id = $1 AND owner_id = $2 AND status IN ('PENDING', 'PROCESSING') RETURNING ${COLUMNS}`,
      [jobId, ownerId],
    );
    if (row) return { outcome: 'cancelled', job: toJob(row) };
    const job = await this.get(sql, jobId);
    if (!job || job.ownerId !== ownerId) return { outcome: 'not_found' };
    // Not cancellable and not ours to change: it finished (or, racing, just did).
    return { outcome: 'finished', job };
  }

  /**
   * The reaper, in the caller's transaction: running jobs of the kinds in `topics` whose lease
   * expired (the worker died or hung without renewing) or whose attempt is older than
   * `stuckAfterMs` (the worker hangs but still renews) lose their worker. With attempts left they go
   * back to PENDING and their request is enqueued again on the kind's topic in the same
   * transaction; out of attempts they are FAILED (next event number: emit `job_failed`). The reason
   * is in `error` either way. Jobs another reaper holds are skipped, so reapers on every replica
   * split the work; kinds not in `topics` are left to their own reaper.
   */
  async reapExpired(
    tx: EntityManager,
    topics: Readonly<Record<string, TopicContract<JobRequest>>>,
    options: ReapOptions = {},
  ): Promise<ReapResult> {
    assertInTransaction(tx, 'reapExpired');
    const stuckAfterMs = options.stuckAfterMs ?? JOB_DEFAULTS.stuckAfterMs;
    const limit = options.limit ?? JOB_DEFAULTS.reapLimit;
    checkLeaseMs(stuckAfterMs);
    checkInteger('limit', limit, 1, 100_000);
    const kinds = Object.keys(topics);
    if (kinds.length === 0) return { requeued: [], failed: [] };
    const rows = await sqlOf(tx).rows<JobRow>(
      `WITH clock AS (SELECT COALESCE($2::timestamptz, now()) AS now),
       expired AS (
         SELECT j.id, j.lease_expires_at < clock.now AS lease_expired
           FROM jobs j, clock
          WHERE j.status = 'PROCESSING' AND j.kind = ANY($1::text[])
            AND (j.lease_expires_at < clock.now OR j.started_at < clock.now - ${ms('$3')})
          ORDER BY j.lease_expires_at
          LIMIT $4
          FOR UPDATE OF j SKIP LOCKED
       )
       UPDATE jobs j SET
          status = CASE WHEN j.attempts >= j.max_attempts THEN 'FAILED' ELSE 'PENDING' END,
          finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() ELSE NULL END,
          last_event_seq = j.last_event_seq + CASE WHEN j.attempts >= j.max_attempts THEN 1 ELSE 0 END,
          progress = CASE WHEN j.attempts >= j.max_attempts THEN j.progress ELSE 0 END,
          stage = CASE WHEN j.attempts >= j.max_attempts THEN j.stage ELSE NULL END,
          error = CASE WHEN e.lease_expired
                    THEN format('lease expired: worker %s stopped renewing it', j.lease_owner)
                    ELSE format('stuck: attempt running for more than %s on worker %s', $5::text, j.lease_owner)
                  END
                  || format(' (attempt %s of %s', j.attempts, j.max_attempts)
                  || CASE WHEN j.attempts >= j.max_attempts THEN ', none left)' ELSE '; requeued)' END,
          lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
         FROM expired e
        WHERE j.id = e.id
       RETURNING ${J_COLUMNS}`,
      [kinds, options.now ?? null, stuckAfterMs, limit, humanDuration(stuckAfterMs)],
    );
    const reaped = rows.map(toJob);
    const requeued = reaped.filter((job) => job.status === 'PENDING');
    for (const job of requeued) await this.requeue(tx, job, topics[job.kind]!);
    return { requeued, failed: reaped.filter((job) => job.status === 'FAILED') };
  }

  /**
   * Retention for one kind: keeps the newest `keepCompleted` COMPLETED, `keepFailed` FAILED and
   * `keepCancelled` CANCELLED jobs (by `finished_at`) and deletes the older ones, and any finished
   * longer than `maxAgeMs` ago. Running and
   * waiting jobs are never touched. @returns how many were deleted per status.
   */
  async purgeFinished(sql: Sql, kind: string, options: RetentionOptions = {}): Promise<PurgeResult> {
    const keepCompleted = options.keepCompleted ?? JOB_DEFAULTS.keepCompleted;
    const keepFailed = options.keepFailed ?? JOB_DEFAULTS.keepFailed;
    const keepCancelled = options.keepCancelled ?? JOB_DEFAULTS.keepCancelled;
    checkInteger('keepCompleted', keepCompleted, 0, 10_000_000);
    checkInteger('keepFailed', keepFailed, 0, 10_000_000);
    checkInteger('keepCancelled', keepCancelled, 0, 10_000_000);
    if (options.maxAgeMs !== undefined) checkLeaseMs(options.maxAgeMs);
    const rows = await sql.rows<{ status: JobStatus; n: string }>(
      `WITH ranked AS (
         SELECT id, status,
                row_number() OVER (PARTITION BY status ORDER BY finished_at DESC, id DESC) AS rank
           FROM jobs
          WHERE kind = $1 AND status IN ('COMPLETED', 'FAILED', 'CANCELLED')
       ),
       deleted AS (
         DELETE FROM jobs j USING ranked r
          WHERE j.id = r.id
            AND (r.rank > CASE r.status WHEN 'COMPLETED' THEN $2::bigint WHEN 'FAILED' THEN $3::bigint ELSE $4::bigint END
                 OR j.finished_at < now() - ${ms('$5')})
         RETURNING j.status
       )
       SELECT status, count(*) AS n FROM deleted GROUP BY status`,
      [kind, keepCompleted, keepFailed, keepCancelled, options.maxAgeMs ?? null],
    );
    const count = (status: JobStatus) => Number(rows.find((r) => r.status === status)?.n ?? 0);
    return { completed: count('COMPLETED'), failed: count('FAILED'), cancelled: count('CANCELLED') };
  }

  /** Counts per kind and status, kinds in name order. */
  async stats(sql: Sql): Promise<JobKindStats[]> {
    const rows = await sql.rows<Record<keyof JobKindStats, string>>(
      `SELECT kind, count(*) AS total,
              count(*) FILTER (WHERE status = 'PENDING') AS pending,
              count(*) FILTER (WHERE status = 'PROCESSING') AS processing,
              count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
              count(*) FILTER (WHERE status = 'FAILED') AS failed,
              count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled
         FROM jobs GROUP BY kind ORDER BY kind`,
    );
    return rows.map((r) => ({
      kind: r.kind,
      total: Number(r.total),
      pending: Number(r.pending),
      processing: Number(r.processing),
      completed: Number(r.completed),
      failed: Number(r.failed),
      cancelled: Number(r.cancelled),
    }));
  }
}
