import { z } from 'zod';
import { defineTopic } from '../topic';

/**
 * The job platform (seeds 000, 001, 003): long jobs with a status, a lease and live progress. A job
 * is a database row; its request travels through the outbox to the worker topic of its family.
 */

/** PENDING → PROCESSING → COMPLETED | FAILED; CANCELLED by its owner while not finished. */
export const JOB_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Job kinds are snake_case names, e.g. `map_generation`, `story_enhancement`. */
export const jobKindSchema = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'expected a snake_case job kind');

export const jobRequestSchema = z
  .object({
    jobId: z.string().uuid(),
    kind: jobKindSchema,
    /** When the job was created (ISO 8601). */
    requestedAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type JobRequest = z.infer<typeof jobRequestSchema>;

/** Generation jobs (map generation, story enhancement) for the `generation` worker. Key: job id. */
export const generationJobRequested = defineTopic({
  name: 'generation.job.requested.1',
  schema: jobRequestSchema,
  description: 'A generation job (map generation, story enhancement) is waiting for a worker.',
});

/**
 * Content-pool worker jobs (seed 001: check_all_pools, generate_*, summarize_session) for the
 * `pool-filler`. Key: the job id. A request says "a pool job is waiting": the worker takes the best
 * waiting one (priority, then age), which need not be the one named.
 */
export const poolJobRequested = defineTopic({
  name: 'pool.job.requested.1',
  schema: jobRequestSchema,
  description: 'A content-pool worker job (pool check, item generation, session summary) is waiting.',
});

/** Live progress of a job, in order per job (`seq` from 1): Redis pub/sub and a bounded replay log. */
export const JOB_EVENT_TYPES = ['job_started', 'progress_update', 'job_completed', 'job_failed'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

export const jobEventSchema = z
  .object({
    type: z.enum(JOB_EVENT_TYPES),
    jobId: z.string().uuid(),
    kind: jobKindSchema,
    /** Per-job sequence number, 1, 2, 3 …: a client that reconnects asks for what follows its last. */
    seq: z.number().int().positive(),
    /** 0–100. */
    progress: z.number().int().min(0).max(100),
    stage: z.string().max(200).optional(),
    /** On job_failed: why. */
    error: z.string().max(2000).optional(),
    /** ISO 8601. */
    at: z.string().datetime({ offset: true }),
  })
  .strict();
export type JobEvent = z.infer<typeof jobEventSchema>;
