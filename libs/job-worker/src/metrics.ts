import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * How one handling of a job request ended:
 * - `completed`: this attempt produced the result;
 * - `retried`: the attempt failed and the job went back to PENDING for the next one;
 * - `failed`: the job is FAILED (out of attempts, or an error no retry can fix);
 * - `released`: shutdown came first; the job was given back and requeued (attempt not counted);
 * - `lease_lost`: the lease was taken away (reaped, cancelled): someone else owns the job now;
 * - `duplicate`: the job was not PENDING (a duplicate delivery, or running elsewhere): nothing done.
 */
export type JobOutcome = 'completed' | 'retried' | 'failed' | 'released' | 'lease_lost' | 'duplicate';

export interface JobWorkerMetrics {
  jobs: Counter<'kind' | 'outcome'>;
  duration: Histogram<'kind'>;
  inFlight: Gauge;
  reaped: Counter<'outcome'>;
  purged: Counter<'kind'>;
}

/**
 * The worker's metrics under the app's prefix (`generation` → `generation_jobs_total`,
 * `generation_job_duration_seconds`, `generation_jobs_in_flight`, `generation_jobs_reaped_total`,
 * `generation_jobs_purged_total`).
 */
export function jobWorkerMetrics(registry: Registry, prefix: string): JobWorkerMetrics {
  const registers = [registry];
  return {
    jobs: new Counter({
      name: `${prefix}_jobs_total`,
      help: 'Job requests handled, by kind and outcome (completed, retried, failed, released, lease_lost, duplicate).',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    duration: new Histogram({
      name: `${prefix}_job_duration_seconds`,
      help: 'Wall time of one job attempt on this replica, claim to final write, by kind.',
      labelNames: ['kind'],
      buckets: [0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
      registers,
    }),
    inFlight: new Gauge({
      name: `${prefix}_jobs_in_flight`,
      help: 'Jobs this replica is running now (at most WORKER_CONCURRENCY).',
      registers,
    }),
    reaped: new Counter({
      name: `${prefix}_jobs_reaped_total`,
      help: 'Jobs whose lease expired or that ran past JOB_STUCK_AFTER_MS, taken back by this replica’s reaper: requeued or failed (out of attempts).',
      labelNames: ['outcome'],
      registers,
    }),
    purged: new Counter({
      name: `${prefix}_jobs_purged_total`,
      help: 'Finished jobs deleted by retention, by kind.',
      labelNames: ['kind'],
      registers,
    }),
  };
}
