export { JobAttemptFailed, JobRejected, classifyFailure, type AttemptFailure } from './failure';
export { type JobAttempt, type JobKind } from './job-kind';
export { JobRunner, type JobRunnerOptions } from './job-runner';
export { JobWorker, type JobWorkerOptions } from './job-worker';
export { jobWorkerMetrics, type JobOutcome, type JobWorkerMetrics } from './metrics';
