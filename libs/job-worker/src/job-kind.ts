import { type EntityManager } from '@fleet/db';
import { type Job } from '@fleet/jobs';
import { type AttemptFailure } from './failure';

/** What a kind's work gets for one attempt. */
export interface JobAttempt {
  /** The job as claimed (this attempt's number in `attempts`). */
  job: Job;
  /**
   * Aborted when the lease is lost (reaped, cancelled) or the replica shuts down: pass it to every
   * long call (the LLM's included) and stop.
   */
  signal: AbortSignal;
  /**
   * Records progress (0–100) and the stage, then emits `progress_update`. Throws `JOB_LEASE_LOST`
   * when the job is no longer this worker's.
   */
  progress(percent: number, stage: string): Promise<void>;
}

/** One job kind the worker runs. */
export interface JobKind {
  /** As stored in `jobs.kind`, e.g. `story_enhancement`. */
  readonly kind: string;
  /**
   * One attempt: the result (stored as the job's `result`), or a throw: {@link JobRejected} for
   * input no retry can fix; anything else is classified by `classifyFailure`. Every step must be
   * safe to repeat (a later attempt, or another worker after a crash, starts over).
   */
  run(attempt: JobAttempt): Promise<unknown>;
  /**
   * The job is COMPLETED (this replica's attempt produced its result): follow-up work that must not
   * run while the job still holds its dedup key, e.g. enqueuing the next batch. A throw is logged;
   * the job stays COMPLETED.
   */
  onCompleted?(job: Job): Promise<void>;
  /**
   * Runs inside the transaction that marks the job COMPLETED: what must happen if and only if the
   * job completes, e.g. an outbox row announcing it. A throw rolls the completion back and the
   * attempt fails like any other.
   */
  completing?(tx: EntityManager, job: Job): Promise<void>;
  /** The job is FAILED for good (after its last attempt, or rejected): leave its subject saying so. */
  onFailed?(job: Job, failure: AttemptFailure): Promise<void>;
}
