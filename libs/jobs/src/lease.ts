import { type Sql } from '@fleet/db';
import { type JobStore } from './job-store';
import { JobError } from './jobs.errors';

/** Options of {@link withLease}. */
export interface WithLeaseOptions {
  /** Time between renewals. @defaultValue a third of `leaseMs`, so two renewals may fail before the lease runs out */
  renewEveryMs?: number;
  /** Called with each renewal that failed with an error (not with a refusal); for logs and metrics. */
  onRenewError?: (error: unknown) => void;
}

/**
 * Runs `work` while holding job `jobId`'s lease: renews it right away (so the work never starts on
 * a lease that is already gone), then every `renewEveryMs`. When the lease is lost — the store
 * refuses a renewal (reaped, cancelled, finished elsewhere) or no renewal succeeded for a whole
 * `leaseMs` (the database unreachable: the reaper may already have given the job away) — `signal`
 * is aborted with a {@link JobError} `JOB_LEASE_LOST` as its reason.
 *
 * `work` must honour the signal (pass it to fetch, check it between steps): withLease waits for
 * `work` to settle, so no abandoned work keeps running unobserved, then rejects with
 * `JOB_LEASE_LOST` even if the work succeeded — another worker may own the job, so its outcome
 * must not be written. Otherwise it resolves or rejects as `work` did.
 *
 * `sql` runs each renewal on its own (`sqlOf(dataSource.manager)`), never inside a long transaction.
 */
export async function withLease<T>(
  store: Pick<JobStore, 'renewLease'>,
  sql: Sql,
  jobId: string,
  workerId: string,
  leaseMs: number,
  work: (signal: AbortSignal) => Promise<T>,
  options: WithLeaseOptions = {},
): Promise<T> {
  const renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(leaseMs / 3));
  if (!Number.isFinite(leaseMs) || leaseMs < 1 || !Number.isFinite(renewEveryMs) || renewEveryMs < 1) {
    throw new JobError(
      'JOB_INVALID',
      `leaseMs and renewEveryMs must be positive, got ${leaseMs} / ${renewEveryMs}`,
    );
  }
  if (renewEveryMs >= leaseMs) {
    throw new JobError(
      'JOB_INVALID',
      `renewEveryMs (${renewEveryMs}) must be shorter than leaseMs (${leaseMs})`,
    );
  }
  if (!(await store.renewLease(sql, jobId, workerId, leaseMs))) {
    throw new JobError('JOB_LEASE_LOST', `job ${jobId} is not held by ${workerId}: not started`);
  }

  const controller = new AbortController();
  let lost: JobError | undefined;
  const lose = (message: string, cause?: unknown) => {
    if (lost) return;
    lost = new JobError('JOB_LEASE_LOST', `job ${jobId}: ${message}; work aborted`, { cause });
    controller.abort(lost);
  };
  let stopped = false;
  let renewal: Promise<void> | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  // Restarted by every successful renewal: firing means the lease may have run out in the database.
  let deadline = setTimeout(() => lose(`no lease renewal succeeded for ${leaseMs} ms`), leaseMs);

  const renew = async () => {
    try {
      if (await store.renewLease(sql, jobId, workerId, leaseMs)) {
        clearTimeout(deadline);
        deadline = setTimeout(() => lose(`no lease renewal succeeded for ${leaseMs} ms`), leaseMs);
      } else {
        lose(`lease lost: ${workerId} no longer holds the job (reaped, cancelled or finished)`);
      }
    } catch (error) {
      options.onRenewError?.(error);
    }
  };
  const schedule = () => {
    renewTimer = setTimeout(() => {
      renewal = renew().then(() => {
        if (!stopped && !lost) schedule();
      });
    }, renewEveryMs);
  };
  schedule();

  try {
    const result = await work(controller.signal);
    if (lost) throw lost;
    return result;
  } catch (error) {
    throw lost ?? error;
  } finally {
    stopped = true;
    clearTimeout(renewTimer);
    clearTimeout(deadline);
    // A renewal in flight finishes first, so nothing touches the job after withLease returns.
    await renewal;
  }
}
