import { type JobRequest, type TopicContract } from '@fleet/contracts';
import { sqlOf, type DataSource, type Sql } from '@fleet/db';
import { NonRetriableError, RetriableError, type MessageContext } from '@fleet/kafka';
import { JobError, withLease, type Job, type JobEvents, type JobStore } from '@fleet/jobs';
import { Semaphore } from '@fleet/llm';
import { type Logger } from '@fleet/observability';
import { classifyFailure, type AttemptFailure } from './failure';
import { type JobOutcome, type JobWorkerMetrics } from './metrics';
import { type JobKind } from './job-kind';

type JobEventType = 'job_started' | 'progress_update' | 'job_completed' | 'job_failed';

export interface JobRunnerOptions {
  dataSource: DataSource;
  store: JobStore;
  events: JobEvents;
  kinds: readonly JobKind[];
  /** The (namespaced) request topic: releases at shutdown requeue on it. */
  topic: TopicContract<JobRequest>;
  /** This replica's lease owner name (unique per process). */
  workerId: string;
  /** `JOB_LEASE_MS`. */
  leaseMs: number;
  /** `WORKER_CONCURRENCY`: jobs this replica runs at once. */
  concurrency: number;
  /** Deliveries of one request the consumer makes before its DLQ (`JOB_MAX_ATTEMPTS`). */
  maxDeliveries: number;
  /**
   * Which job a request runs. `job` (default): the job it names — a request that finds its job
   * not PENDING is a duplicate. `best-waiting`: the best PENDING job of the runner's kinds (highest
   * priority, then oldest; `claimNext`), so priorities hold however requests are ordered in Kafka.
   * Every waiting job has at least one request in flight (creation, retry, reaper and release each
   * add one), so taking another job than the one named never leaves a job without a request.
   */
  claim?: 'job' | 'best-waiting';
  metrics: JobWorkerMetrics;
  logger: Logger;
}

/** Why a running job was aborted by this replica (not by its lease). */
class ShuttingDown extends Error {
  constructor() {
    super('the worker is shutting down');
    this.name = 'ShuttingDown';
  }
}

/**
 * Runs one job per request record, start to end, inside the consumer's handler:
 *
 * 1. at most `concurrency` jobs at once per replica (a FIFO semaphore shared by the main and the
 *    retry consumer);
 * 2. `claim`: a job that is not PENDING (a duplicate delivery, running elsewhere, finished) → no-op;
 * 3. the kind's work under `withLease` (renewed every third of the lease; aborted when it is lost),
 *    each store transition followed by its event (`job_started`, `progress_update`…, `job_completed`);
 * 4. on failure: with attempts left (the job's own and the consumer's deliveries, whichever runs
 *    out first) the job goes back to PENDING and a {@link RetriableError} makes the consumer
 *    redeliver after its backoff; otherwise FAILED, `job_failed`, the kind's `onFailed`, and a
 *    {@link NonRetriableError} sends the request to the DLQ with the reason. A lost lease ends the
 *    handling quietly: the job is someone else's now.
 *
 * The handler may run for minutes (one LLM call on a slow GPU): the consumer heartbeats while a
 * handler runs, so the replica stays in its group (see the README).
 */
export class JobRunner {
  private readonly sql: Sql;
  private readonly kinds: Map<string, JobKind>;
  private readonly slots: Semaphore;
  /** Running jobs and how to abort each at shutdown. */
  private readonly running = new Map<string, AbortController>();
  private stopping = false;

  constructor(private readonly options: JobRunnerOptions) {
    this.sql = sqlOf(options.dataSource.manager);
    this.kinds = new Map(options.kinds.map((k) => [k.kind, k]));
    this.slots = new Semaphore(options.concurrency);
  }

  /** The kinds this worker runs, for the reaper and retention. */
  kindNames(): string[] {
    return [...this.kinds.keys()];
  }

  kind(name: string): JobKind | undefined {
    return this.kinds.get(name);
  }

  /** Jobs running now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** The consumer's handler for one request record. */
  async handle(request: JobRequest, context: MessageContext): Promise<void> {
    const kind = this.kinds.get(request.kind);
    if (!kind) {
      // Not claimed: a replica that knows the kind (a newer version) may still run it.
      throw new NonRetriableError(`no handler for job kind "${request.kind}" in this worker`, 'UNKNOWN_KIND');
    }
    const release = await this.slots.acquire();
    try {
      if (this.stopping) {
        await this.requeueUnstarted(request);
        return;
      }
      await this.run(kind, request, context);
    } finally {
      release();
    }
  }

  /**
   * SIGTERM: no new job starts; running ones get `drainMs` to finish, then are aborted and released
   * (back to PENDING, the attempt not counted) with a new request in the outbox, for another replica.
   * Resolves once every handler has settled.
   */
  beginShutdown(drainMs: number): { abortTimer: NodeJS.Timeout } {
    this.stopping = true;
    const abortTimer = setTimeout(() => {
      for (const [jobId, controller] of this.running) {
        this.options.logger.warn({ jobId, drainMs }, 'job still running at the drain deadline; releasing it');
        controller.abort(new ShuttingDown());
      }
    }, drainMs);
    return { abortTimer };
  }

  private async run(requested: JobKind, request: JobRequest, context: MessageContext): Promise<void> {
    let kind = requested;
    const { store, workerId, leaseMs, metrics, logger } = this.options;
    const claimed =
      this.options.claim === 'best-waiting'
        ? await store.claimNext(this.sql, this.kindNames(), workerId, leaseMs)
        : await store.claim(this.sql, request.jobId, workerId, leaseMs);
    if (!claimed) {
      metrics.jobs.inc({ kind: kind.kind, outcome: 'duplicate' });
      logger.info(
        { jobId: request.jobId, kind: kind.kind },
        'no PENDING job for this request (duplicate delivery, or running elsewhere); skipped',
      );
      return;
    }
    const job = claimed;
    // best-waiting may run another kind than the request's.
    kind = this.kinds.get(job.kind) ?? kind;
    const stopTimer = metrics.duration.startTimer({ kind: kind.kind });
    const shutdown = new AbortController();
    this.running.set(job.id, shutdown);
    metrics.inFlight.set(this.running.size);
    const log = logger.child({ jobId: job.id, kind: job.kind, attempt: job.attempts });
    log.info({ maxAttempts: job.maxAttempts, requestedJobId: request.jobId }, 'job started');
    let outcome: JobOutcome = 'failed';
    try {
      await this.emit(job, 'job_started');
      const result = await withLease(
        store,
        this.sql,
        job.id,
        workerId,
        leaseMs,
        (leaseSignal) => {
          const signal = AbortSignal.any([leaseSignal, shutdown.signal]);
          return kind.run({
            job,
            signal,
            progress: async (percent, stage) => {
              signal.throwIfAborted();
              const step = await store.reportProgress(this.sql, job.id, workerId, percent, stage);
              if (!step)
                throw new JobError('JOB_LEASE_LOST', `job ${job.id} is no longer held by ${workerId}`);
              await this.emit(step, 'progress_update');
            },
          });
        },
        { onRenewError: (err) => log.warn({ err }, 'lease renewal failed; retrying at the next interval') },
      );
      const done = kind.completing
        ? await this.options.dataSource.transaction(async (tx) => {
            const completed = await store.complete(sqlOf(tx), job.id, workerId, result);
            if (completed) await kind.completing!(tx, completed);
            return completed;
          })
        : await store.complete(this.sql, job.id, workerId, result);
      if (!done) {
        outcome = 'lease_lost';
        log.warn('job completed but no longer ours (reaped or cancelled meanwhile); result discarded');
        return;
      }
      await this.emit(done, 'job_completed');
      outcome = 'completed';
      log.info({ result }, 'job completed');
      await kind
        .onCompleted?.(done)
        .catch((err: unknown) => log.error({ err }, 'follow-up of a completed job failed'));
    } catch (error) {
      outcome = await this.afterError(kind, job, context, error, shutdown.signal, log);
    } finally {
      this.running.delete(job.id);
      metrics.inFlight.set(this.running.size);
      metrics.jobs.inc({ kind: kind.kind, outcome });
      stopTimer();
    }
  }

  /** Decides what a failed attempt means; throws what the consumer should do with the record. */
  private async afterError(
    kind: JobKind,
    job: Job,
    context: MessageContext,
    error: unknown,
    shutdown: AbortSignal,
    log: Logger,
  ): Promise<JobOutcome> {
    const { store, workerId } = this.options;
    if (error instanceof JobError && error.code === 'JOB_LEASE_LOST') {
      log.warn({ err: error }, 'lease lost; the job is left to whoever holds it now');
      return 'lease_lost';
    }
    if (shutdown.aborted) {
      await this.releaseAndRequeue(job, log);
      return 'released';
    }
    const failure = classifyFailure(error);
    if (failure === 'crash') throw error;
    const retry =
      failure.retriable && job.attempts < job.maxAttempts && context.attempt < this.options.maxDeliveries;
    const failed = await store.fail(this.sql, job.id, workerId, failure.message, { retry });
    if (!failed) {
      log.warn({ err: error }, 'attempt failed but the job is no longer ours; nothing recorded');
      return 'lease_lost';
    }
    if (failed.status === 'PENDING') {
      log.warn({ err: error, code: failure.code }, 'attempt failed; the job will be retried');
      // Not thrown as-is: the consumer must retry even what the LLM lib calls permanent (invalid output).
      throw new RetriableError(failure.message, failure.code, {
        cause: error,
        ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}),
      });
    }
    await this.emit(failed, 'job_failed');
    await this.notifyFailed(kind, failed, failure, log);
    log.error({ err: error, code: failure.code, attempts: failed.attempts }, 'job FAILED');
    throw new NonRetriableError(
      `job ${job.id} (${job.kind}) FAILED after ${failed.attempts} attempt(s): ${failure.message}`,
      failure.code,
      { cause: error },
    );
  }

  /** The kind's `onFailed`, for the reaper too; its own failure is logged (the job stays FAILED). */
  async notifyFailed(kind: JobKind, job: Job, failure: AttemptFailure, log: Logger): Promise<void> {
    try {
      await kind.onFailed?.(job, failure);
    } catch (err) {
      log.error({ err, jobId: job.id }, 'could not record the failure on the job’s subject');
    }
  }

  /** Release and the new request in one transaction: never a PENDING job without a request. */
  private async releaseAndRequeue(job: Job, log: Logger): Promise<void> {
    const { store, workerId, topic } = this.options;
    const released = await this.options.dataSource.transaction(async (tx) => {
      const back = await store.release(sqlOf(tx), job.id, workerId, 'released at shutdown');
      if (back) await store.requeue(tx, back, topic);
      return back;
    });
    if (released) log.warn('job released at shutdown and requeued for another worker');
    else log.warn('shutdown: the job was no longer ours to release');
  }

  /** A request that arrived while shutting down: a new one in the outbox, the job still PENDING. */
  private async requeueUnstarted(request: JobRequest): Promise<void> {
    const { store, topic } = this.options;
    await this.options.dataSource.transaction(async (tx) => {
      const job = await store.get(sqlOf(tx), request.jobId);
      if (job?.status === 'PENDING') await store.requeue(tx, job, topic);
    });
  }

  /**
   * Events are the live view; the row is the truth. Redis failing must not fail the job: the
   * subscribers report the missing seq as a gap and read the row.
   */
  async emit(job: Job, type: JobEventType): Promise<void> {
    try {
      await this.options.events.emit(job, { type });
    } catch (err) {
      this.options.logger.warn(
        { err, jobId: job.id, type, seq: job.lastEventSeq },
        'could not emit a job event',
      );
    }
  }
}
