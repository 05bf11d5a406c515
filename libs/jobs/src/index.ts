export { JobError, type JobErrorCode } from './jobs.errors';
export { jobPlatformEnv, type JobPlatformConfig } from './config';
export {
  JOB_DEFAULTS,
  JobStore,
  MAX_ERROR_LENGTH,
  MAX_STAGE_LENGTH,
  type CancelOutcome,
  type CreatedJob,
  type Job,
  type JobKindStats,
  type NewJob,
  type PurgeResult,
  type ReapOptions,
  type ReapResult,
  type RetentionOptions,
} from './job-store';
export {
  JOB_EVENT_DEFAULTS,
  JobEvents,
  parseJobEvent,
  type EmitResult,
  type JobEventInput,
  type JobEventsOptions,
} from './job-events';
export {
  JobEventSubscriber,
  type JobEventHandlers,
  type JobEventSubscriberOptions,
  type JobSubscription,
} from './job-event-subscriber';
export { withLease, type WithLeaseOptions } from './lease';
export { CreateJobs1764600000000, JOB_STATUSES_AT_CREATION } from './migrations/1764600000000-CreateJobs';
export { JobDedupKey1764900000000 } from './migrations/1764900000000-JobDedupKey';
import { CreateJobs1764600000000 } from './migrations/1764600000000-CreateJobs';
import { JobDedupKey1764900000000 } from './migrations/1764900000000-JobDedupKey';

/** The `jobs` table; the api's migrations include them (workers use the same database). */
export const JOB_MIGRATIONS = [CreateJobs1764600000000, JobDedupKey1764900000000] as const;
