import { createHash } from 'node:crypto';
import { jobEventSchema, type JobEvent, type JobEventType } from '@fleet/contracts';
import { type RedisClient } from '@fleet/redis';
import { type Job } from './job-store';
import { JobError } from './jobs.errors';

/** Options of {@link JobEvents}. */
export interface JobEventsOptions {
  /**
   * Prefix of every key and channel: `<prefix>job:<id>` (channel), `<prefix>user:<ownerId>`
   * (channel), `<prefix>job:<id>:events` (stream). Tests use a fresh one each.
   * @defaultValue 'jobs:'
   */
  keyPrefix?: string;
  /** Events kept per job for replay (exact `MAXLEN`); older ones are trimmed. @defaultValue 1000 */
  streamMaxLen?: number;
  /** A job's log expires this long after its latest event while it runs. @defaultValue 86400000 (24 h) */
  streamTtlMs?: number;
  /**
   * After a final event (`job_completed`, `job_failed`) the log expires this long after it; the
   * finished job itself stays readable in the database. @defaultValue 3600000 (1 h)
   */
  finishedStreamTtlMs?: number;
}

export const JOB_EVENT_DEFAULTS = {
  keyPrefix: 'jobs:',
  streamMaxLen: 1000,
  streamTtlMs: 24 * 3_600_000,
  finishedStreamTtlMs: 3_600_000,
} as const;

/** What to say about a job; the rest of the event comes from the job row. */
export interface JobEventInput {
  type: JobEventType;
  /** @defaultValue the job's `progress` */
  progress?: number;
  /** @defaultValue the job's `stage`, if any */
  stage?: string;
  /** @defaultValue the job's `error` on `job_failed`, none otherwise */
  error?: string;
}

export interface EmitResult {
  /**
   * False when the job's log already holds this sequence number or a later one: the event is stale
   * (emitted twice, or by a worker that lost the job after its write) and was neither stored nor
   * published.
   */
  published: boolean;
  event: JobEvent;
}

const FINAL_TYPES: ReadonlySet<JobEventType> = new Set(['job_completed', 'job_failed']);

/**
 * Appends the event to the job's stream under the id `<seq>-0` and publishes it on both channels,
 * atomically, unless the stream's newest entry has the same or a later seq. The script is the
 * only writer of job streams, so a stream's entries, and what its channels carried, are in
 * strictly increasing seq order.
 *
 * KEYS[1] stream; ARGV: seq, event JSON, max length, TTL ms, job channel, user channel.
 */
const EMIT_SCRIPT = `
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if newest[1] and tonumber(string.match(newest[1][1], '^(%d+)')) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], ARGV[1] .. '-0', 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[2])
redis.call('PUBLISH', ARGV[6], ARGV[2])
return 1
`;
const EMIT_SHA = createHash('sha1').update(EMIT_SCRIPT).digest('hex');

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new JobError('JOB_INVALID', `${name} must be a positive integer, got ${value}`);
  }
}

/** Parses and validates one event (a stream entry's or a pub/sub message's JSON). */
export function parseJobEvent(raw: string): JobEvent {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new JobError('JOB_EVENT_INVALID', 'job event is not JSON', { cause: error });
  }
  const parsed = jobEventSchema.safeParse(json);
  if (!parsed.success) {
    throw new JobError(
      'JOB_EVENT_INVALID',
      `job event does not match jobEventSchema: ${parsed.error.issues
        .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
        .join('; ')}`,
    );
  }
  return parsed.data;
}

/**
 * Live progress of jobs on Redis: each event is kept in a bounded per-job stream (for replay) and
 * published on the job's channel and its owner's channel.
 *
 * Sequence numbers come from the database: every store transition that reports something
 * (`claim` → `job_started`, `reportProgress` → `progress_update`, `complete` → `job_completed`,
 * `fail`/`reapExpired` to FAILED and `cancel` → `job_failed`) bumps `last_event_seq` in the same
 * statement, and {@link JobEvents.emit} sends the job it returned under that number. So the order of
 * seqs is the order of the row's history, even across workers; and a worker that lost the job
 * after its write cannot append behind the new owner's events — its seq is lower, and the stream
 * refuses it.
 */
export class JobEvents {
  readonly keyPrefix: string;
  readonly streamMaxLen: number;
  readonly streamTtlMs: number;
  readonly finishedStreamTtlMs: number;

  constructor(
    readonly client: RedisClient,
    options: JobEventsOptions = {},
  ) {
    this.keyPrefix = options.keyPrefix ?? JOB_EVENT_DEFAULTS.keyPrefix;
    this.streamMaxLen = options.streamMaxLen ?? JOB_EVENT_DEFAULTS.streamMaxLen;
    this.streamTtlMs = options.streamTtlMs ?? JOB_EVENT_DEFAULTS.streamTtlMs;
    this.finishedStreamTtlMs = options.finishedStreamTtlMs ?? JOB_EVENT_DEFAULTS.finishedStreamTtlMs;
    checkPositiveInteger('streamMaxLen', this.streamMaxLen);
    checkPositiveInteger('streamTtlMs', this.streamTtlMs);
    checkPositiveInteger('finishedStreamTtlMs', this.finishedStreamTtlMs);
  }

  /** Pub/sub channel of one job's events. */
  jobChannel(jobId: string): string {
    return `${this.keyPrefix}job:${jobId}`;
  }

  /** Pub/sub channel of every event of one user's jobs. */
  userChannel(ownerId: string): string {
    return `${this.keyPrefix}user:${ownerId}`;
  }

  /** The stream that keeps a job's recent events, entry id `<seq>-0`. */
  streamKey(jobId: string): string {
    return `${this.keyPrefix}job:${jobId}:events`;
  }

  /**
   * Stores and publishes the event of the transition that returned `job`, under `job.lastEventSeq`.
   * Emit right after the store call, with the job it returned; emitting the same job twice is a
   * no-op (`published: false`).
   * @throws {@link JobError} `JOB_EVENT_INVALID` when the job has no event number yet or the event
   * does not match `jobEventSchema`.
   */
  async emit(
    job: Pick<Job, 'id' | 'kind' | 'ownerId' | 'lastEventSeq' | 'progress' | 'stage' | 'error'>,
    input: JobEventInput,
  ): Promise<EmitResult> {
    if (job.lastEventSeq < 1) {
      throw new JobError(
        'JOB_EVENT_INVALID',
        `job ${job.id} has no event number yet: emit the job a store transition returned`,
      );
    }
    const stage = input.stage ?? job.stage ?? undefined;
    const error = input.error ?? (input.type === 'job_failed' ? (job.error ?? undefined) : undefined);
    const candidate = {
      type: input.type,
      jobId: job.id,
      kind: job.kind,
      seq: job.lastEventSeq,
      progress: input.progress ?? job.progress,
      ...(stage !== undefined ? { stage } : {}),
      ...(error !== undefined ? { error } : {}),
      at: new Date().toISOString(),
    };
    const parsed = jobEventSchema.safeParse(candidate);
    if (!parsed.success) {
      throw new JobError(
        'JOB_EVENT_INVALID',
        `${input.type} for job ${job.id}: ${parsed.error.issues
          .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
          .join('; ')}`,
      );
    }
    const event = parsed.data;
    const ttlMs = FINAL_TYPES.has(event.type) ? this.finishedStreamTtlMs : this.streamTtlMs;
    const reply = await this.runEmit(
      [this.streamKey(job.id)],
      [
        event.seq,
        JSON.stringify(event),
        this.streamMaxLen,
        ttlMs,
        this.jobChannel(job.id),
        this.userChannel(job.ownerId),
      ],
    );
    if (reply !== 0 && reply !== 1) {
      throw new JobError('JOB_UNEXPECTED_REPLY', `emit script answered ${JSON.stringify(reply)}`);
    }
    return { published: reply === 1, event };
  }

  /**
   * The job's stored events with a seq above `afterSeq`, in seq order (at most `limit`). Older
   * events may have been trimmed (`streamMaxLen`) or expired with the log: compare the first seq
   * with `afterSeq + 1` to know.
   */
  async replay(jobId: string, afterSeq = 0, limit = this.streamMaxLen): Promise<JobEvent[]> {
    if (!Number.isInteger(afterSeq) || afterSeq < 0) {
      throw new JobError('JOB_INVALID', `afterSeq must be an integer ≥ 0, got ${afterSeq}`);
    }
    checkPositiveInteger('limit', limit);
    const entries = await this.client.xrange(this.streamKey(jobId), `${afterSeq + 1}-0`, '+', 'COUNT', limit);
    return entries.map(([id, fields]) => {
      const at = fields.indexOf('e');
      if (at < 0 || at % 2 !== 0 || fields[at + 1] === undefined) {
        throw new JobError('JOB_EVENT_INVALID', `stream entry ${id} of job ${jobId} has no event`);
      }
      return parseJobEvent(fields[at + 1]!);
    });
  }

  /** EVALSHA, falling back to EVAL when the server does not know the script yet. */
  private async runEmit(keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client.evalsha(EMIT_SHA, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await this.client.eval(EMIT_SCRIPT, keys.length, ...keys, ...args);
    }
  }
}
