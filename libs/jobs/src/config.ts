import { envDurationMs, envInt } from '@fleet/config';
import { z } from 'zod';
import { JOB_EVENT_DEFAULTS } from './job-events';
import { JOB_DEFAULTS } from './job-store';

/**
 * Env of the apps on the job platform (api, generation, later pool-filler and exporter), so they
 * share names and defaults. Apps extend their own env with it: `baseServiceEnv.extend(jobPlatformEnv.shape)`.
 * Durations take `30s`, `30m`, `1h` or milliseconds.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `JOB_LEASE_MS` | `30s` | a worker's lease on a running job; renewed every third of it |
 * | `JOB_MAX_ATTEMPTS` | `3` | claims before a job fails for good (new jobs) |
 * | `JOB_REAPER_INTERVAL_MS` | `15s` | how often the reaper looks for expired leases |
 * | `JOB_STUCK_AFTER_MS` | `30m` | an attempt running longer is reaped even with a live lease |
 * | `JOB_KEEP_COMPLETED` | `100` | finished jobs kept per kind: COMPLETED |
 * | `JOB_KEEP_FAILED` | `50` | … FAILED (and CANCELLED) |
 * | `JOB_EVENTS_STREAM_MAX_LEN` | `1000` | progress events kept per job for replay |
 * | `JOB_EVENTS_TTL_MS` | `24h` | a running job's event log expires this long after its last event |
 * | `JOB_EVENTS_FINISHED_TTL_MS` | `1h` | … after its final event |
 */
export const jobPlatformEnv = z.object({
  JOB_LEASE_MS: envDurationMs().default(30_000),
  JOB_MAX_ATTEMPTS: envInt({ min: 1, max: 1000 }).default(JOB_DEFAULTS.maxAttempts),
  JOB_REAPER_INTERVAL_MS: envDurationMs().default(15_000),
  JOB_STUCK_AFTER_MS: envDurationMs().default(JOB_DEFAULTS.stuckAfterMs),
  JOB_KEEP_COMPLETED: envInt({ min: 0 }).default(JOB_DEFAULTS.keepCompleted),
  JOB_KEEP_FAILED: envInt({ min: 0 }).default(JOB_DEFAULTS.keepFailed),
  JOB_EVENTS_STREAM_MAX_LEN: envInt({ min: 1 }).default(JOB_EVENT_DEFAULTS.streamMaxLen),
  JOB_EVENTS_TTL_MS: envDurationMs().default(JOB_EVENT_DEFAULTS.streamTtlMs),
  JOB_EVENTS_FINISHED_TTL_MS: envDurationMs().default(JOB_EVENT_DEFAULTS.finishedStreamTtlMs),
});
export type JobPlatformConfig = z.output<typeof jobPlatformEnv>;
